"""System.DateTime's methods that scripts call: ``(Get-Date).AddDays(-7)``, ``.Subtract()``,
``.ToShortDateString()``, ``.ToString('yyyy-MM-dd')`` (en-US, as the emulated host's culture),
and .NET's date format strings (`format_net_date`, also Get-Date -Format's)."""

from __future__ import annotations

import calendar
import datetime as _dt
from collections.abc import Callable
from typing import Any

from .values import to_number

__all__ = ["datetime_method", "format_net_date"]


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


_NET_TOKENS = [
    ("dddd", "%A"),
    ("ddd", "%a"),
    ("dd", "%d"),
    ("d", "{d}"),
    ("MMMM", "%B"),
    ("MMM", "%b"),
    ("MM", "%m"),
    ("M", "{M}"),
    ("yyyy", "%Y"),
    ("yy", "%y"),
    ("HH", "%H"),
    ("H", "{H}"),
    ("hh", "%I"),
    ("h", "{h}"),
    ("mm", "%M"),
    ("m", "{m}"),
    ("ss", "%S"),
    ("s", "{s}"),
    ("fff", "{fff}"),
    ("ff", "{ff}"),
    ("f", "{f}"),
    ("tt", "%p"),
    ("zzz", "{zzz}"),
    ("K", "{K}"),
]
_STANDARD = {
    "d": "M/d/yyyy",
    "D": "dddd, MMMM d, yyyy",
    "t": "h:mm tt",
    "T": "h:mm:ss tt",
    "g": "M/d/yyyy h:mm tt",
    "G": "M/d/yyyy h:mm:ss tt",
    "f": "dddd, MMMM d, yyyy h:mm tt",
    "F": "dddd, MMMM d, yyyy h:mm:ss tt",
    "s": "yyyy-MM-ddTHH:mm:ss",
    "u": "yyyy-MM-dd HH:mm:ssZ",
    "o": "yyyy-MM-ddTHH:mm:ss.fffffffK",
    "O": "yyyy-MM-ddTHH:mm:ss.fffffffK",
}


def format_net_date(value: _dt.datetime, fmt: str) -> str:
    """A .NET date format string (``yyyy-MM-dd``, ``o``, ``D``...) applied to ``value``."""
    fmt = _STANDARD.get(fmt, fmt)
    out: list[str] = []
    i = 0
    while i < len(fmt):
        if fmt[i] in "'\"":
            end = fmt.find(fmt[i], i + 1)
            end = len(fmt) if end < 0 else end
            out.append(fmt[i + 1 : end])
            i = end + 1
            continue
        if fmt.startswith("fffffff", i):
            out.append(f"{value.microsecond:06d}0")
            i += 7
            continue
        for token, repl in _NET_TOKENS:
            if fmt.startswith(token, i):
                out.append(_apply_token(value, repl))
                i += len(token)
                break
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


def _apply_token(value: _dt.datetime, repl: str) -> str:
    simple = {
        "{d}": str(value.day),
        "{M}": str(value.month),
        "{H}": str(value.hour),
        "{h}": str(value.hour % 12 or 12),
        "{m}": str(value.minute),
        "{s}": str(value.second),
        "{fff}": f"{value.microsecond // 1000:03d}",
        "{ff}": f"{value.microsecond // 10000:02d}",
        "{f}": str(value.microsecond // 100000),
    }
    if repl in simple:
        return simple[repl]
    if repl in ("{zzz}", "{K}"):
        offset = value.astimezone().utcoffset() or _dt.timedelta()
        minutes = int(offset.total_seconds() // 60)
        sign = "+" if minutes >= 0 else "-"
        return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
    return value.strftime(repl)


def _to_string(value: _dt.datetime, fmt: Any = None, *_provider: Any) -> str:
    """ToString(format): an empty or absent format is the general "G" one (M/d/yyyy h:mm:ss tt)."""
    return format_net_date(value, str(fmt) if fmt else "G")


_METHODS: dict[str, Callable[..., Any]] = {
    "tostring": _to_string,
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
