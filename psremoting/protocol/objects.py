"""Deserialized PowerShell output as Python objects a user can use (one import for all of it).

The model is in `psobject` (PSObject, PSEnumValue, the stream records), the CLIXML decoder in
`clixml`, the remoting note properties in `notes`, pypsrp's values in `pypsrp_values`.
"""

from __future__ import annotations

from psremoting.protocol.clixml import (
    _fast_primitive,
    decode_string,
    from_clixml,
    parse_datetime,
    parse_duration,
)
from psremoting.protocol.notes import annotate, attach_notes, note_properties
from psremoting.protocol.psobject import InformationRecord, ProgressRecord, PSEnumValue, PSObject
from psremoting.protocol.secrets import PSCredential, SecureString

__all__ = [
    "PSObject",
    "PSEnumValue",
    "PSCredential",
    "SecureString",
    "ProgressRecord",
    "InformationRecord",
    "from_clixml",
    "annotate",
    "attach_notes",
    "note_properties",
    "parse_datetime",
    "parse_duration",
    "decode_string",
    "_fast_primitive",
]
