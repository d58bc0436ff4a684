"""System.DateTime's methods that scripts call: ``(Get-Date).AddDays(-7)``, ``.Subtract()``,
``.ToShortDateString()`` (en-US, as the emulated host's culture)."""

from __future__ import annotations

import calendar
import datetime as _dt
from collections.abc import Callable
from typing import Any

from .values import to_number

__all__ = ["datetime_method"]


def _add_months(value: _dt.datetime, months: Any) -> _dt.datetime:
    """.NET's AddMonths: the same day, or the month's last day where the month is shorter."""
    index = value.year * 12 + value.month - 1 + int(to_number(months))
    year, month = divmod(index, 12)
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


def _subtract(value: _dt.datetime, other: Any) -> Any:
    return value - other if isinstance(other, (_dt.datetime, _dt.timedelta)) else value


def _clock(value: _dt.datetime, seconds: bool) -> str:
    hour = value.hour % 12 or 12
    tail = f":{value.second:02d}" if seconds else ""
    return f"{hour}:{value.minute:02d}{tail} {'AM' if value.hour < 12 else 'PM'}"


def _span(**unit: Any) -> Callable[[_dt.datetime, Any], _dt.datetime]:
    ((name, scale),) = unit.items()
    return lambda value, amount: value + _dt.timedelta(**{name: float(to_number(amount)) * scale})


_METHODS: dict[str, Callable[..., Any]] = {
    "adddays": _span(days=1),
    "addhours": _span(hours=1),
    "addminutes": _span(minutes=1),
    "addseconds": _span(seconds=1),
    "addmilliseconds": _span(milliseconds=1),
    "addticks": _span(microseconds=0.1),
    "addmonths": _add_months,
    "addyears": lambda value, years: _add_months(value, int(to_number(years)) * 12),
    "add": lambda value, span: value + span if isinstance(span, _dt.timedelta) else value,
    "subtract": _subtract,
    "toshortdatestring": lambda value: f"{value.month}/{value.day}/{value.year}",
    "tolongdatestring": lambda value: f"{value:%A}, {value:%B} {value.day}, {value.year}",
    "toshorttimestring": lambda value: _clock(value, seconds=False),
    "tolongtimestring": lambda value: _clock(value, seconds=True),
    "touniversaltime": lambda value: value.astimezone(_dt.timezone.utc).replace(tzinfo=None),
    "tolocaltime": lambda value: value,
}


def datetime_method(name: str) -> Callable[..., Any] | None:
    """The DateTime method of that (lower-case) name, or None."""
    return _METHODS.get(name)
