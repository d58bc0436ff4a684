"""SOAP envelopes of WS-Management requests, written from a template instead of built as a tree.

pypsrp's ``WSMan.invoke`` builds each request's header as an ElementTree (a dozen elements)
and serializes the whole envelope with ``ET.tostring``, whose namespace walk and writer cost
more than anything else a short command does on the client. Here the header is one string
template filled with the request's values (escaped), and the body (pypsrp's element: Send,
Receive, Command, Signal...) is written by a small serializer that knows the WS-Management
prefixes. The document is the one pypsrp sends: the same elements, attributes, text and
namespaces, in the same order (tests/client/test_envelope.py compares them). A Send of
stream data (`SendBody`) is written straight to bytes, its base64 by pybase64: it is most of
an upload's Send, and the element-and-string path would encode and copy it four times.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from typing import Any

import pybase64

__all__ = [
    "SendBody",
    "build_envelope",
    "element_xml",
    "escape_attribute",
    "escape_text",
    "send_overhead",
    "wsman_class",
    "NAMESPACES",
]

#: pypsrp's prefixes (``pypsrp.wsman.NAMESPACES``), which ``ET.tostring`` uses too.
NAMESPACES = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "xs": "http://www.w3.org/2001/XMLSchema",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "wsa": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "wsman": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "wsmid": "http://schemas.dmtf.org/wbem/wsman/identify/1/wsmanidentity.xsd",
    "wsmanfault": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
    "cim": "http://schemas.dmtf.org/wbem/wscim/1/common",
    "wsmv": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "cfg": "http://schemas.microsoft.com/wbem/wsman/1/config",
    "sub": "http://schemas.microsoft.com/wbem/wsman/1/subscription",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "m": "http://schemas.microsoft.com/wbem/wsman/1/machineid",
    "cert": "http://schemas.microsoft.com/wbem/wsman/1/config/service/certmapping",
    "plugin": "http://schemas.microsoft.com/wbem/wsman/1/config/PluginConfiguration",
    "wsen": "http://schemas.xmlsoap.org/ws/2004/09/enumeration",
    "wsdl": "http://schemas.xmlsoap.org/wsdl",
    "wst": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
    "wsp": "http://schemas.xmlsoap.org/ws/2004/09/policy",
    "wse": "http://schemas.xmlsoap.org/ws/2004/08/eventing",
    "i": "http://schemas.microsoft.com/wbem/wsman/1/cim/interactive.xsd",
    "xml": "http://www.w3.org/XML/1998/namespace",
    "pwsh": "http://schemas.microsoft.com/powershell",
}
_PREFIX = {uri: prefix for prefix, uri in NAMESPACES.items()}
_XML_NS = NAMESPACES["xml"]
_ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"

# The header pypsrp's _create_header builds, element for element (prefixes: s wsa wsmv xml wsman).
_HEADER = (
    '<s:Header><wsa:Action s:mustUnderstand="true">{action}</wsa:Action>'
    '<wsmv:DataLocale s:mustUnderstand="false" xml:lang="{data_locale}" />'
    '<wsman:Locale s:mustUnderstand="false" xml:lang="{locale}" />'
    '<wsman:MaxEnvelopeSize s:mustUnderstand="true">{max_envelope}</wsman:MaxEnvelopeSize>'
    "<wsa:MessageID>{message_id}</wsa:MessageID>"
    "<wsman:OperationTimeout>PT{timeout}S</wsman:OperationTimeout>"
    f'<wsa:ReplyTo><wsa:Address s:mustUnderstand="true">{_ANONYMOUS}</wsa:Address></wsa:ReplyTo>'
    '<wsman:ResourceURI s:mustUnderstand="true">{resource_uri}</wsman:ResourceURI>'
    '<wsmv:SessionId s:mustUnderstand="false">{session_id}</wsmv:SessionId>'
    "<wsa:To>{to}</wsa:To>{sets}</s:Header>"
)
_HEADER_NAMESPACES = ("s", "wsa", "wsmv", "wsman")


def escape_text(text: str) -> str:
    """Character data as ``ET.tostring`` writes it."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def escape_attribute(text: str) -> str:
    """An attribute value as ``ET.tostring`` writes it (Python 3.11's rules)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    if "\n" in text:
        text = text.replace("\n", "&#10;")
    if "\t" in text:
        text = text.replace("\t", "&#09;")
    return text


def _qname(name: str, used: dict[str, str]) -> str:
    if name[:1] != "{":
        return name
    uri, _, local = name[1:].partition("}")
    prefix = _PREFIX.get(uri)
    if prefix is None:
        prefix = used.get(uri) or f"ns{len(used)}"  # as ET numbers them
    if uri != _XML_NS:
        used[uri] = prefix
    return f"{prefix}:{local}"


def _write(element: ET.Element, out: list[str], used: dict[str, str]) -> None:
    tag = _qname(element.tag, used)
    out.append("<" + tag)
    for key, value in element.attrib.items():
        out.append(f' {_qname(key, used)}="{escape_attribute(value)}"')
    if element.text or len(element):
        out.append(">")
        if element.text:
            out.append(escape_text(element.text))
        for child in element:
            _write(child, out, used)
        out.append(f"</{tag}>")
    else:
        out.append(" />")
    if element.tail:
        out.append(escape_text(element.tail))


def element_xml(element: ET.Element, used: dict[str, str]) -> str:
    """`element` written as ``ET.tostring`` would inside a document that declares the
    namespaces recorded in `used` (uri -> prefix, filled in here)."""
    out: list[str] = []
    _write(element, out, used)
    return "".join(out)


def _declarations(used: dict[str, str]) -> str:
    # ET.tostring declares them on the root, ordered by prefix.
    return "".join(
        f' xmlns:{prefix}="{escape_attribute(uri)}"'
        for uri, prefix in sorted(used.items(), key=lambda x: x[1])
    )


class SendBody:
    """The body of a Send of `data` to one stream (``rsp:Send/rsp:Stream``), as pypsrp's
    ``WinRS.send`` builds it: Name, then CommandId, the data in base64."""

    __slots__ = ("command_id", "data", "stream")

    def __init__(self, stream: str, data: bytes, command_id: str | None = None) -> None:
        self.stream = stream
        self.data = data
        self.command_id = command_id

    def xml(self) -> bytes:
        command = f' CommandId="{escape_attribute(self.command_id)}"' if self.command_id is not None else ""
        opening = f'<rsp:Send><rsp:Stream Name="{escape_attribute(self.stream)}"{command}'
        if not self.data:
            return f"{opening} /></rsp:Send>".encode()
        return b"".join((opening.encode(), b">", pybase64.b64encode(self.data), b"</rsp:Stream></rsp:Send>"))


def build_envelope(
    wsman: Any,
    action: str,
    resource_uri: str,
    resource: ET.Element | SendBody | None,
    option_set: Any = None,
    selector_set: Any = None,
    timeout: Any = None,
    *,
    message_id: str | None = None,
) -> tuple[bytes, str]:
    """The request pypsrp's ``WSMan.invoke`` would send, and its MessageID (``uuid:...``;
    new unless given). `wsman` gives the session's values: ``max_envelope_size``,
    ``operation_timeout``, ``locale``, ``data_locale``, ``session_id``, the endpoint."""
    used: dict[str, str] = {NAMESPACES[p]: p for p in _HEADER_NAMESPACES}
    sets = ""
    if option_set is not None:
        sets += element_xml(option_set.pack(), used)
    if selector_set is not None:
        sets += element_xml(selector_set.pack(), used)
    raw_body = b""
    if isinstance(resource, SendBody):
        used[NAMESPACES["rsp"]] = "rsp"
        raw_body, resource = resource.xml(), None
    body = element_xml(resource, used) if resource is not None else ""
    wanted = message_id or f"uuid:{str(uuid.uuid4()).upper()}"
    header = _HEADER.format(
        action=escape_text(action),
        data_locale=escape_attribute(str(wsman.data_locale)),
        locale=escape_attribute(str(wsman.locale)),
        max_envelope=escape_text(str(wsman.max_envelope_size)),
        message_id=escape_text(wanted),
        timeout=escape_text(str(timeout or wsman.operation_timeout)),
        resource_uri=escape_text(resource_uri),
        session_id=escape_text(f"uuid:{str(wsman.session_id).upper()}"),
        to=escape_text(str(wsman.transport.endpoint)),
        sets=sets,
    )
    start = f"<s:Envelope{_declarations(used)}>{header}"
    if raw_body:
        return b"".join((start.encode(), b"<s:Body>", raw_body, b"</s:Body></s:Envelope>")), wanted
    body = f"<s:Body>{body}</s:Body>" if body else "<s:Body />"
    return f"{start}{body}</s:Envelope>".encode(), wanted


_EMPTY_UUID = "00000000-0000-0000-0000-000000000000"


def send_overhead(wsman: Any) -> int:
    """The bytes of a Send envelope around its base64 (pypsrp's ``_calc_envelope_size``
    measure: header with a ShellId selector, an empty rsp:Send/rsp:Stream, no s:Body)."""
    from pypsrp.wsman import SelectorSet

    used: dict[str, str] = {NAMESPACES[p]: p for p in _HEADER_NAMESPACES}
    selectors = SelectorSet()
    selectors.add_option("ShellId", _EMPTY_UUID)
    sets = element_xml(selectors.pack(), used)
    rsp = NAMESPACES["rsp"]
    send = ET.Element(f"{{{rsp}}}Send")
    ET.SubElement(send, f"{{{rsp}}}Stream", Name="stdin", CommandId=_EMPTY_UUID).text = ""
    body = element_xml(send, used)
    header = _HEADER.format(
        action=escape_text("http://schemas.microsoft.com/wbem/wsman/1/windows/shell/Send"),
        data_locale=escape_attribute(str(wsman.data_locale)),
        locale=escape_attribute(str(wsman.locale)),
        max_envelope=escape_text(str(wsman.max_envelope_size)),
        message_id=f"uuid:{_EMPTY_UUID.upper()}",
        timeout=escape_text(str(wsman.operation_timeout)),
        resource_uri="http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd",
        session_id=escape_text(f"uuid:{str(wsman.session_id).upper()}"),
        to=escape_text(str(wsman.transport.endpoint)),
        sets=sets,
    )
    return len(f"<s:Envelope{_declarations(used)}>{header}{body}</s:Envelope>".encode())


def wsman_class() -> type:
    """pypsrp's ``WSMan`` writing its requests with `build_envelope` (the rest is pypsrp's)."""
    global _WSMAN_CLASS
    if _WSMAN_CLASS is None:
        from pypsrp.exceptions import WinRMError, WinRMTransportError
        from pypsrp.wsman import WSMan

        from psremoting.protocol import safexml

        class TemplateWSMan(WSMan):
            """pypsrp's WSMan, its envelopes written from a template."""

            def invoke(
                self,
                action: str,
                resource_uri: str,
                resource: ET.Element | SendBody | None,
                option_set: Any = None,
                selector_set: Any = None,
                timeout: int | None = None,
                *,
                retries_on_read_timeout: int = 0,
            ) -> ET.Element:
                xml, message_id = build_envelope(
                    self, action, resource_uri, resource, option_set, selector_set, timeout
                )
                try:
                    response = self.transport.send(
                        xml,
                        retries_on_read_timeout=retries_on_read_timeout,
                        timeout=timeout + 2 if timeout else None,  # pypsrp's margin
                    )
                except WinRMTransportError as err:
                    try:
                        raise self._parse_wsman_fault(err.response_text) from None
                    except ET.ParseError:
                        raise err from None
                response_xml = safexml.fromstring(response)
                relates = response_xml.find("s:Header/wsa:RelatesTo", NAMESPACES)
                related = relates.text if relates is not None else ""
                if message_id != related:
                    raise WinRMError(
                        "Received related id does not match related expected message id: "
                        f"Sent: {message_id}, Received: {related}"
                    )
                return response_xml

            def _calc_envelope_size(self, max_envelope_size: int) -> int:
                return int((max_envelope_size - send_overhead(self) - 256) / 4 * 3)

        _WSMAN_CLASS = TemplateWSMan
    return _WSMAN_CLASS


_WSMAN_CLASS: type | None = None
