"""Values pypsrp already deserialized (error records, host calls, stream records) converted
into the shapes `psremoting.protocol.clixml` gives.

It reads pypsrp's objects by their private members (``_types``, ``_to_string``, an enum's
``_string_map``), so it lives with the rest of what knows pypsrp's internals: the transport.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any

from psremoting.protocol.clixml import from_clixml
from psremoting.protocol.psobject import ProgressRecord, PSEnumValue, PSObject

__all__ = ["from_pypsrp", "progress_from"]


def from_pypsrp(value: Any, _depth: int = 0) -> Any:
    """Convert a value deserialized by pypsrp (GenericComplexObject, its enums and records)
    into the same Python shapes `from_clixml` gives."""
    if _depth > 50:
        return value
    if value is None or isinstance(value, (str, int, float, bytes, uuid.UUID, Decimal)):
        return value
    if isinstance(value, list):
        return [from_pypsrp(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        return {from_pypsrp(k, _depth + 1): from_pypsrp(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, ET.Element):
        try:
            return from_clixml(value)
        except Exception:
            return ET.tostring(value, encoding="unicode")
    cls_name = type(value).__name__
    if cls_name == "GenericComplexObject":
        props: dict[str, Any] = {}
        for key, val in list(value.adapted_properties.items()) + list(value.extended_properties.items()):
            props[key] = from_pypsrp(val, _depth + 1)
        if value.property_sets and not props:
            inner = value.property_sets[0] if len(value.property_sets) == 1 else value.property_sets
            return from_pypsrp(inner, _depth + 1)
        return PSObject(list(value.types), props, value.to_string)
    if hasattr(value, "_string_map") and hasattr(value, "value"):  # a pypsrp Enum
        try:
            return PSEnumValue(int(value.value or 0), str(value), list(getattr(value, "_types", [])))
        except (KeyError, TypeError, ValueError):
            return value.value
    if hasattr(value, "_types"):
        props = {k: from_pypsrp(v, _depth + 1) for k, v in vars(value).items() if not k.startswith("_")}
        return PSObject(list(value._types), props, getattr(value, "_to_string", None))
    return value


def progress_from(value: Any) -> ProgressRecord:
    """A ProgressRecord from a pypsrp ProgressRecord message or a deserialized PSObject."""
    if isinstance(value, PSObject):
        rtype = value.get("Type")
        return ProgressRecord(
            activity=str(value.get("Activity") or ""),
            status_description=str(value.get("StatusDescription") or ""),
            activity_id=_int_or(value.get("ActivityId"), 0),
            parent_activity_id=_int_or(value.get("ParentActivityId"), -1),
            percent_complete=_int_or(value.get("PercentComplete"), -1),
            seconds_remaining=_int_or(value.get("SecondsRemaining"), -1),
            current_operation=value.get("CurrentOperation"),
            record_type="Completed" if str(rtype) in ("Completed", "1") else "Processing",
        )
    ptype = getattr(value, "progress_type", None)
    type_value = getattr(ptype, "value", ptype)
    return ProgressRecord(
        activity=str(getattr(value, "activity", "") or ""),
        status_description=str(getattr(value, "description", "") or ""),
        activity_id=int(getattr(value, "activity_id", 0) or 0),
        parent_activity_id=_int_or(getattr(value, "parent_activity_id", -1), -1),
        percent_complete=_int_or(getattr(value, "percent_complete", -1), -1),
        seconds_remaining=_int_or(getattr(value, "seconds_remaining", -1), -1),
        current_operation=getattr(value, "current_operation", None),
        record_type="Completed" if type_value == 1 else "Processing",
    )


def _int_or(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
