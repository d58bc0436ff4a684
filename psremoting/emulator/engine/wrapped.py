"""Provider items that are a PSObject around a PSObject, serialized as Windows does.

A provider whose item is already a PSObject (the WSMan provider's WSManConfigLeafElement)
hands it to ``WriteItemObject``, which wraps it in a new PSObject with the PS* notes. Windows'
serializer writes such an object with the inner one nested, unnamed, inside the outer ``<Obj>``
(pypsrp reads it as ``property_sets[0]``): a Windows Server 2016 host answers
``Get-Item WSMan:\\localhost\\Service\\AllowUnencrypted`` with::

    <Obj RefId="0"><TN RefId="0">...</TN><ToString>...</ToString>
      <Obj RefId="1"><TNRef RefId="0" /><ToString>...</ToString><Props>...</Props><MS>...</MS></Obj>
      <MS>(the same notes, objects as <Ref>)</MS></Obj>

:class:`WrappedItem` is such an object in the engine (its properties read as the inner
object's); :func:`wrapped_clixml` is its CLIXML in that shape.
"""

from __future__ import annotations

import copy
from typing import Any
from xml.etree import ElementTree

from psrpcore.types import PSObject, serialize

__all__ = ["WrappedItem", "wrapped_clixml"]


class WrappedItem(PSObject):
    """A PSObject whose base object is a PSObject with the same type names, properties and
    ToString (``new PSObject(psobject)`` in a provider's ``WriteItemObject``)."""


def _shift_ref_ids(element: ElementTree.Element, by: int) -> None:
    for node in element.iter():
        if node.tag in ("Obj", "Ref") and "RefId" in node.attrib:
            node.set("RefId", str(int(node.attrib["RefId"]) + by))


def wrapped_clixml(obj: WrappedItem, cipher: Any) -> bytes:
    """The CLIXML of `obj` with its base object nested as Windows writes it."""
    flat = serialize(obj, cipher)
    inner = copy.deepcopy(flat)
    _shift_ref_ids(inner, 1)
    outer = ElementTree.Element("Obj", RefId="0")
    for child in list(inner):
        if child.tag == "TN":
            outer.append(child)
            inner.remove(child)
            inner.insert(0, ElementTree.Element("TNRef", RefId=child.attrib["RefId"]))
    # Windows' order inside each object: type names, ToString, then the properties.
    to_string = inner.find("ToString")
    if to_string is not None:
        inner.remove(to_string)
        inner.insert(1, to_string)
        ElementTree.SubElement(outer, "ToString").text = to_string.text
    outer.append(inner)
    notes = inner.find("MS")
    if notes is not None:
        outer_notes = ElementTree.SubElement(outer, "MS")
        for note in notes:
            if note.tag == "Obj":
                ref = ElementTree.Element("Ref", RefId=note.attrib["RefId"])
                ref.set("N", note.attrib["N"])
                outer_notes.append(ref)
            else:
                outer_notes.append(copy.deepcopy(note))
    data: bytes = ElementTree.tostring(outer, encoding="utf-8", method="xml")
    return data
