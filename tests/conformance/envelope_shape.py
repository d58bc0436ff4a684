"""Structural comparison of WS-Management envelopes, for the Windows-recordings conformance test.

Two answers to the same request cannot be equal byte for byte (message ids, ActivityIds,
timestamps, process ids and the PSRP payloads differ), but their *shape* should be:

* the response action (``a:Action``);
* the element paths, as namespace-URI qualified tags (prefixes do not matter), with the
  attribute names each element carries and the few attribute values that mean something
  (``rsp:Stream@Name``, ``rsp:CommandState@State``, ``w:Selector@Name``, ``w:WSManFault@Code``);
* for faults: the SOAP subcode (``w:TimedOut`` ...) and the WSManFault code;
* the sequence of PSRP message types carried in the base64 streams, decoded from the
  MS-PSRP fragments (21-byte header: object id, fragment id, flags, length) and messages
  (destination, then the 4-byte little-endian message type).

This module also rewrites the ids of recorded requests (ShellId, CommandId) into the ids the
emulator handed out, so a recording can be replayed against it.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psrpcore.types import PSRPMessageType

NAMESPACES = {
    "http://www.w3.org/2003/05/soap-envelope": "s",
    "http://schemas.xmlsoap.org/ws/2004/08/addressing": "a",
    "http://schemas.xmlsoap.org/ws/2004/09/transfer": "x",
    "http://schemas.xmlsoap.org/ws/2004/09/enumeration": "n",
    "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd": "w",
    "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd": "p",
    "http://schemas.microsoft.com/wbem/wsman/1/windows/shell": "rsp",
    "http://schemas.microsoft.com/powershell": "pwsh",
    "http://www.w3.org/XML/1998/namespace": "xml",
    "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault": "f",
    "http://schemas.microsoft.com/wbem/wsman/1/config": "cfg",
}
# Attribute values that carry meaning (the rest are ids or free text).
MEANINGFUL_ATTRIBUTES = {
    ("rsp:Stream", "Name"),
    ("rsp:CommandState", "State"),
    ("w:Selector", "Name"),
    ("f:WSManFault", "Code"),
}
# Elements whose text is base64 PSRP fragments.
PSRP_TEXT_ELEMENTS = {"rsp:Stream", "pwsh:connectResponseXml", "rsp:Arguments", "pwsh:creationXml"}

FRAGMENT_HEADER = struct.Struct(">QQBI")  # object id, fragment id, flags, length


def short_tag(tag: str) -> str:
    """``{uri}local`` -> ``prefix:local`` with the well-known prefixes above."""
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        return f"{NAMESPACES.get(uri, uri)}:{local}"
    return tag


@dataclass
class Exchange:
    """One recorded request/response pair."""

    index: int
    request: str
    response: str
    http_status: int = 200
    timeout: bool = False
    #: ``http_error: true`` in the recording: no HTTP answer at all (the WinRM service was
    #: stopped, the connection refused or reset); ``response`` is empty, ``http_status`` 0.
    connection_error: bool = False

    @property
    def action(self) -> str:
        return request_action(self.request)


def load_recording(path: Path) -> list[Exchange]:
    """Read a ``windows-recordings/*.yml`` file into exchanges."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    exchanges = []
    for i, message in enumerate(data.get("messages") or []):
        error = message.get("transport_error") or {}
        response = message.get("response") or ""
        connection_error = bool(message.get("http_error")) and not response
        # Windows sends every WSMan fault with HTTP 500; some recordings omit the marker.
        default_status = 500 if re.search(r"<(?:\w+:)?Fault\b", response) else 200
        exchanges.append(
            Exchange(
                index=i,
                request=message["request"],
                response=response,
                http_status=0 if connection_error else int(error.get("code", default_status)),
                timeout=bool(message.get("timeout")),
                connection_error=connection_error,
            )
        )
    return exchanges


def is_psrp_request(envelope: str) -> bool:
    """Whether a request targets a PowerShell (PSRP) resource rather than the cmd shell or config."""
    match = re.search(r"ResourceURI[^>]*>\s*([^<\s]+)\s*<", envelope)
    return bool(match and "/powershell/" in match.group(1))


def request_action(envelope: str) -> str:
    """The last path segment of an envelope's ``Action``, e.g. ``Receive``."""
    match = re.search(r"Action[^>]*>\s*([^<\s]+)\s*<", envelope)
    return match.group(1).rsplit("/", 1)[-1] if match else "?"


# -- PSRP fragments -----------------------------------------------------------------------
class PSRPStreamDecoder:
    """Reassemble PSRP messages from fragments across exchanges; report each message's type.

    One decoder per side (recording, emulator), fed in exchange order, as fragments of one
    message may arrive in several Receive responses.
    """

    def __init__(self) -> None:
        self._partial: dict[int, bytearray] = {}
        self._typed: set[int] = set()

    def feed(self, data: bytes) -> list[str]:
        """Consume the fragments in ``data``; return the types of messages that start here
        (or whose first 8 bytes, which hold the type, complete here)."""
        types: list[str] = []
        offset = 0
        while offset + FRAGMENT_HEADER.size <= len(data):
            object_id, _fragment_id, flags, length = FRAGMENT_HEADER.unpack_from(data, offset)
            offset += FRAGMENT_HEADER.size
            chunk = data[offset : offset + length]
            offset += length
            if flags & 0x1:
                self._partial[object_id] = bytearray()
                self._typed.discard(object_id)
            buffer = self._partial.get(object_id)
            if buffer is None:
                continue  # the start of this message came before the replay began
            buffer += chunk
            if object_id not in self._typed and len(buffer) >= 8:
                self._typed.add(object_id)
                types.append(self._type_of(bytes(buffer)))
            if flags & 0x2:
                self._partial.pop(object_id, None)
                self._typed.discard(object_id)
        return types

    @staticmethod
    def _type_of(message: bytes) -> str:
        (value,) = struct.unpack_from("<I", message, 4)
        try:
            return PSRPMessageType(value).name
        except ValueError:
            return f"0x{value:08X}"


def psrp_payloads(root: ET.Element) -> list[bytes]:
    """The decoded base64 PSRP data of an envelope, in document order."""
    payloads = []
    for element in root.iter():
        if short_tag(element.tag) in PSRP_TEXT_ELEMENTS and element.text and element.text.strip():
            try:
                payloads.append(base64.b64decode(element.text.strip(), validate=True))
            except binascii.Error:
                continue
    return payloads


# -- shapes --------------------------------------------------------------------------------
@dataclass
class EnvelopeShape:
    """What must agree between a recorded answer and the emulator's."""

    action: str
    paths: frozenset[str]
    fault: tuple[str, str] | None  # (subcode value, WSManFault Code)
    psrp_types: list[str] = field(default_factory=list)


#: The shape of "no HTTP answer": the connection was refused or reset before a response.
NO_ANSWER = EnvelopeShape(action="(no answer)", paths=frozenset(), fault=None)


def _paths(element: ET.Element, prefix: str, into: set[str]) -> None:
    tag = short_tag(element.tag)
    path = f"{prefix}/{tag}" if prefix else tag
    into.add(path)
    for name, value in element.attrib.items():
        attr = short_tag(name)
        if (tag, attr) in MEANINGFUL_ATTRIBUTES:
            shown = value.rsplit("/", 1)[-1]
            into.add(f"{path}@{attr}={shown}")
        elif attr != "xml:lang":
            into.add(f"{path}@{attr}")
    for child in element:
        _paths(child, path, into)


def parse_envelope(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8") if isinstance(text, str) else text)


def envelope_shape(text: str | bytes, decoder: PSRPStreamDecoder | None = None) -> EnvelopeShape:
    """Compute the shape of a response envelope (``decoder`` keeps PSRP state across calls).

    Without a decoder (a ``cmd`` shell, whose streams are raw text) no PSRP types are read.
    An empty text (no HTTP answer at all: a reset connection) has the shape :data:`NO_ANSWER`.
    """
    if not (text.strip() if isinstance(text, str) else text.strip()):
        return NO_ANSWER
    root = ET.fromstring(text if isinstance(text, bytes) else text.encode("utf-8"))
    action = ""
    fault: tuple[str, str] | None = None
    for element in root.iter():
        tag = short_tag(element.tag)
        if tag == "a:Action" and element.text:
            action = element.text.strip().rsplit("/", 1)[-1]
    subcode = root.find(
        ".//{http://www.w3.org/2003/05/soap-envelope}Subcode/{http://www.w3.org/2003/05/soap-envelope}Value"
    )
    if subcode is not None or action == "fault":
        wsman_fault = root.find(".//{http://schemas.microsoft.com/wbem/wsman/1/wsmanfault}WSManFault")
        fault = (
            (subcode.text or "").strip().rpartition(":")[2] if subcode is not None else "",
            wsman_fault.get("Code", "") if wsman_fault is not None else "",
        )
    paths: set[str] = set()
    _paths(root, "", paths)
    types: list[str] = []
    if decoder is not None:
        for payload in psrp_payloads(root):
            types += decoder.feed(payload)
    return EnvelopeShape(action=action, paths=frozenset(paths), fault=fault, psrp_types=types)


# Paths that only say something about the host, not about the protocol: allowed to differ.
HOST_DETAIL_PATHS = frozenset({"s:Envelope/s:Header/p:ActivityId"})


def compare_shapes(recorded: EnvelopeShape, actual: EnvelopeShape) -> list[str]:
    """Human-readable differences between a recorded and an actual shape (empty when alike)."""
    differences = []
    if recorded.action != actual.action:
        differences.append(f"action {actual.action!r} instead of {recorded.action!r}")
    if recorded.fault != actual.fault:
        differences.append(f"fault {actual.fault} instead of {recorded.fault}")
    missing = sorted(recorded.paths - actual.paths - HOST_DETAIL_PATHS)
    extra = sorted(actual.paths - recorded.paths - HOST_DETAIL_PATHS)
    if missing:
        differences.append(
            "missing " + ", ".join(_tail(p) for p in missing[:6]) + (" ..." if len(missing) > 6 else "")
        )
    if extra:
        differences.append(
            "extra " + ", ".join(_tail(p) for p in extra[:6]) + (" ..." if len(extra) > 6 else "")
        )
    if recorded.psrp_types != actual.psrp_types:
        differences.append(f"PSRP messages {actual.psrp_types} instead of {recorded.psrp_types}")
    return differences


def difference_reasons(recorded: EnvelopeShape, actual: EnvelopeShape) -> list[str]:
    """Short categories for why two shapes differ, to count them across recordings."""
    reasons: list[str] = []
    if actual.fault and actual.fault[0] == "TimedOut" and not recorded.fault:
        reasons.append("emulator timed out: what Windows sent here it had already sent")
    elif recorded.fault and recorded.fault[0] == "TimedOut" and not actual.fault:
        reasons.append("Windows timed out here; the emulator answered")
    elif recorded.fault != actual.fault:
        reasons.append(f"different fault {actual.fault} vs Windows {recorded.fault}")
    rec, act = recorded.psrp_types, actual.psrp_types
    if "RunspacePoolState" in act and "RunspacePoolState" not in rec and "SessionCapability" in rec:
        reasons.append("RunspacePoolState sent with the open answer (Windows: next Receive)")
    if act[:1] == ["PipelineState"] and rec[:1] != ["PipelineState"]:
        reasons.append("PipelineState(Running) sent first (Windows sends none)")
    if "ProgressRecord" in rec and "ProgressRecord" not in act:
        reasons.append("no ProgressRecord (Windows: module-loading progress)")
    if act.count("ErrorRecord") > rec.count("ErrorRecord"):
        reasons.append("engine wrote errors (command or feature not emulated)")
    if "PipelineHostCall" in rec and "PipelineHostCall" not in act:
        reasons.append("no host call (engine)")
    shape_only = (recorded.paths ^ actual.paths) - HOST_DETAIL_PATHS
    if shape_only and not reasons:
        reasons.append("element structure")
    if not reasons and rec != act:
        reasons.append("PSRP messages batched differently")
    return reasons or ["other"]


def _tail(path: str) -> str:
    return "/".join(path.split("/")[-2:])


# -- ids -----------------------------------------------------------------------------------
_ID_PATTERNS = (
    re.compile(r'<(?:\w+:)?Selector Name="ShellId">([^<]+)<'),
    re.compile(r"<(?:\w+:)?ShellId>([^<]+)<"),
    re.compile(r"<(?:\w+:)?CommandResponse>\s*<(?:\w+:)?CommandId>([^<]+)<"),
)
_GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")


def ids_in_response(text: str) -> list[str]:
    """ShellIds and CommandIds an answer hands out (CreateResponse, CommandResponse, Enumerate)."""
    found: list[str] = []
    for pattern in _ID_PATTERNS:
        found += [m.group(1).strip() for m in pattern.finditer(text)]
    return found


class IdMap:
    """Recorded id -> emulator id, learnt from the pairs of answers to the same request."""

    def __init__(self) -> None:
        self.mapping: dict[str, str] = {}

    def learn(self, recorded_response: str, actual_response: str) -> None:
        """Pair the ids a Create or Command answer hands out (other answers only echo ids,
        possibly in another order, as Enumerate does)."""
        if not re.search(r"<(?:\w+:)?(?:ResourceCreated|CommandResponse)\b", recorded_response):
            return
        for recorded, actual in zip(
            ids_in_response(recorded_response), ids_in_response(actual_response), strict=False
        ):
            if recorded.upper() != actual.upper():
                self.mapping.setdefault(recorded.upper(), actual)

    def rewrite(self, request: str) -> str:
        if not self.mapping:
            return request

        def swap(match: re.Match[str]) -> str:
            return self.mapping.get(match.group(0).upper(), match.group(0))

        return _GUID.sub(swap, request)


def shorten_operation_timeout(request: str, seconds: float) -> str:
    """Cap ``wsman:OperationTimeout`` of a request at ``seconds`` (a Receive with nothing to say
    then answers with the timeout fault in that time instead of the recorded 20 s)."""

    def cap(match: re.Match[str]) -> str:
        value = float(match.group(2))
        return f"{match.group(1)}PT{min(value, seconds):g}S{match.group(3)}"

    return re.sub(r"(<(?:\w+:)?OperationTimeout>)PT([\d.]+)S(</)", cap, request)


@dataclass
class ExchangeReport:
    index: int
    action: str
    differences: list[str]
    skipped: str | None = None
    reasons: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return not self.differences and self.skipped is None


@dataclass
class RecordingReport:
    name: str
    exchanges: list[ExchangeReport] = field(default_factory=list)
    recorded_psrp: list[str] = field(default_factory=list)
    actual_psrp: list[str] = field(default_factory=list)
    note: str = ""

    @property
    def matched(self) -> int:
        return sum(e.matches for e in self.exchanges)

    def summary(self) -> str:
        lines = [
            f"{self.name}: {self.matched}/{len(self.exchanges)} exchanges match{' — ' + self.note if self.note else ''}"
        ]
        for e in self.exchanges:
            if not e.matches:
                why = e.skipped or "; ".join(e.differences)
                lines.append(f"  #{e.index} {e.action}: {why}")
                if e.reasons and not e.skipped:
                    lines.append(f"      why: {'; '.join(e.reasons)}")
        if self.recorded_psrp != self.actual_psrp:
            lines.append(
                f"  PSRP sequence differs: recorded {self.recorded_psrp} emulator {self.actual_psrp}"
            )
        return "\n".join(lines)


def as_text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def reason_counts(reports: Iterable[RecordingReport]) -> dict[str, int]:
    """How many differing exchanges each reason category covers, most frequent first."""
    counts: dict[str, int] = {}
    for report in reports:
        for exchange in report.exchanges:
            if exchange.matches:
                continue
            for reason in exchange.reasons or ([exchange.skipped] if exchange.skipped else ["other"]):
                counts[reason] = counts.get(reason, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def join_reports(reports: Iterable[RecordingReport], *, details: bool = True) -> str:
    reports = list(reports)
    total = sum(len(r.exchanges) for r in reports)
    matched = sum(r.matched for r in reports)
    lines = [r.summary() if details else r.summary().splitlines()[0] for r in reports]
    lines.append(
        f"TOTAL: {matched}/{total} exchanges match; why the others differ (an exchange may count twice):"
    )
    lines += [f"  {count:4d}  {reason}" for reason, count in reason_counts(reports).items()]
    return "\n".join(lines)
