"""How output reads: PowerShell's formatting of the objects that come back.

`out_string(objects, width)` is Out-String (default views by type name, tables, lists, wide,
group-by headers, PSComputerName): `engine`; the view definitions of common types: `views`;
cell and value text: `values`; layout at a width: `render`. `format_table` and
`format_job_table` are the client's PSSession and Job tables: `sessions`.
"""

from __future__ import annotations

from psremoting.cmdlets.formatting.engine import FormatRequest, Property, format_lines, out_string
from psremoting.cmdlets.formatting.sessions import (
    JOB_COLUMNS,
    SESSION_COLUMNS,
    format_job_table,
    format_table,
)
from psremoting.cmdlets.formatting.views import BUILTIN_VIEWS, Column, View, view_for

__all__ = [
    "BUILTIN_VIEWS",
    "Column",
    "FormatRequest",
    "JOB_COLUMNS",
    "Property",
    "SESSION_COLUMNS",
    "View",
    "format_job_table",
    "format_lines",
    "format_table",
    "out_string",
    "view_for",
]
