"""Python values sent to PowerShell as PSRP defines them, against the emulator over HTTP with
NTLM message encryption: the server reports what it received (``$a.GetType().FullName``, as
Windows answers), and the value comes back as the same Python value. Anything without a
CLIXML form is refused with a TypeError naming the argument, before anything is sent.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

import psremoting
from psremoting import PSCredential, SecureString
from psremoting.emulator import Emulator

USER, PASSWORD = "admin", "Values-Passw0rd"


class Color(enum.IntEnum):
    RED = 1
    GREEN = 2


@pytest.fixture(scope="module")
def session() -> Iterator[Any]:
    with Emulator(users={USER: PASSWORD, "bob": "Hop-S3cret!"}, auth=("ntlm",)) as emu:
        s = psremoting.new_pssession(
            connection_uri=emu.url, credential=(USER, PASSWORD), authentication="ntlm"
        )
        try:
            yield s
        finally:
            psremoting.remove_pssession(s)


WHEN = dt.datetime(2026, 12, 3, 5, 43, 15, 123456, tzinfo=dt.timezone.utc)
GUID = uuid.UUID("8f5a3b1e-1111-2222-3333-444455556666")

CASES = [
    (b"\x00\x01\xff", "System.Byte[]", b"\x00\x01\xff"),
    (bytearray(b"ab"), "System.Byte[]", b"ab"),
    (WHEN, "System.DateTime", WHEN),
    (dt.date(2026, 12, 3), "System.DateTime", dt.datetime(2026, 12, 3)),
    (
        dt.timedelta(days=1, hours=2, seconds=3.5),
        "System.TimeSpan",
        dt.timedelta(days=1, hours=2, seconds=3.5),
    ),
    (Decimal("12.50"), "System.Decimal", Decimal("12.50")),
    (GUID, "System.Guid", GUID),
    (Color.GREEN, "System.Int32", 2),
    (7, "System.Int32", 7),
    (2**40, "System.Int64", 2**40),
    (0.1, "System.Double", 0.1),
    ("text", "System.String", "text"),
    (True, "System.Boolean", True),
    ({"a": 1}, "System.Collections.Hashtable", {"a": 1}),
]


@pytest.mark.parametrize(("value", "type_name", "back"), CASES, ids=[repr(c[0])[:30] for c in CASES])
def test_a_value_arrives_as_its_powershell_type_and_comes_back(
    session: Any, value: Any, type_name: str, back: Any
) -> None:
    out = psremoting.invoke_command(
        "param($a) $a.GetType().FullName; ,$a",
        session=session,
        argument_list=[value],
        hide_computer_name=True,
    )
    assert str(out[0]) == type_name
    assert out[1] == back


@pytest.mark.parametrize("value", [(1, 2, 3), [1, 2, 3], {1, 2, 3}, frozenset({1, 2, 3})], ids=repr)
def test_tuples_lists_and_sets_arrive_as_arrays(session: Any, value: Any) -> None:
    out = psremoting.invoke_command(
        "param($a) $a.GetType().FullName; $a.Count", session=session, argument_list=[value]
    )
    assert [str(v) for v in out] == ["System.Object[]", "3"]


def test_none_arrives_as_null(session: Any) -> None:
    out = psremoting.invoke_command("param($a) $null -eq $a", session=session, argument_list=[None])
    assert out == [True]


def test_pipeline_input_keeps_its_types(session: Any) -> None:
    out = psremoting.invoke_command(
        "$input | ForEach-Object { $_.GetType().FullName }",
        session=session,
        input_object=[b"\x01", WHEN, GUID, Decimal("1.5")],
    )
    assert [str(v) for v in out] == ["System.Byte[]", "System.DateTime", "System.Guid", "System.Decimal"]


def test_a_secure_string_and_a_credential_arrive_as_such(session: Any) -> None:
    out = psremoting.invoke_command(
        "param($s, $c) $s.GetType().FullName; $c.GetType().FullName; $c.GetNetworkCredential().Password",
        session=session,
        argument_list=[SecureString("Hop-S3cret!"), PSCredential("bob", "Hop-S3cret!")],
    )
    assert [str(v) for v in out] == [
        "System.Security.SecureString",
        "System.Management.Automation.PSCredential",
        "Hop-S3cret!",
    ]


def test_a_value_with_no_powershell_form_is_refused_before_anything_is_sent(session: Any) -> None:
    class Widget:
        pass

    with pytest.raises(TypeError, match=r"argument_list\[1\] is of type .*Widget"):
        psremoting.invoke_command("param($a, $b) $b", session=session, argument_list=[1, Widget()])
    with pytest.raises(TypeError, match=r"argument_list\[0\] is of type complex"):
        psremoting.invoke_command("param($a) $a", session=session, argument_list=[[1, 2j]])
    # the session is still usable: nothing half-sent is left on it
    assert psremoting.invoke_command("1 + 1", session=session) == [2]


def test_objects_coming_back_print_as_powershell_tostring(session: Any) -> None:
    version, secret = psremoting.invoke_command(
        "param($s) $PSVersionTable.PSVersion; $s", session=session, argument_list=[SecureString("x")]
    )
    assert str(version) == "5.1.20348.2849"
    assert (version.Major, version.Minor, version.Build, version.Revision) == (5, 1, 20348, 2849)
    assert str(secret) == "System.Security.SecureString"
