"""PSCredential and SecureString in Python: the value shows only through an explicit call.

Everything a user (or a library) does to show an object, str(), repr(), f-strings, %
formatting, logging, json, an exception carrying one, a traceback, shows the type name or
<hidden>; `get_password()` / `get_value()` / `GetNetworkCredential().Password` reveal it.
"""

from __future__ import annotations

import json
import logging
import pickle
import traceback

import pytest

import psremoting
from psremoting import PSCredential, SecureString
from psremoting.cmdlets.invoke.results import to_jsonable

SECRET = "Tr0ub4dor&3-secret"


def shown(value: object) -> list[str]:
    """Every way a program commonly turns `value` into text."""
    texts = [str(value), repr(value), f"{value}", f"{value!r}", "%s" % (value,), "%r" % (value,)]  # noqa: UP031 - %-formatting is one of the ways under test
    if not isinstance(value, (list, dict)):
        texts.append(f"{value:>40}")
    return texts


def test_a_credential_shows_its_user_and_type_but_never_its_password() -> None:
    cred = PSCredential("CONTOSO\\alice", SECRET)
    for text in shown(cred) + shown(cred.password) + shown([cred]) + shown({"c": cred}):
        assert SECRET not in text
    assert str(cred) == "System.Management.Automation.PSCredential"  # PowerShell's ToString()
    assert repr(cred) == "PSCredential(username='CONTOSO\\\\alice', password=<hidden>)"
    assert str(cred.password) == "System.Security.SecureString"  # as $c.Password prints


def test_the_explicit_calls_reveal_the_password() -> None:
    cred = PSCredential("CONTOSO\\alice", SECRET)
    assert cred.get_password() == SECRET
    network = cred.GetNetworkCredential()
    assert (network.UserName, network.Domain, network.Password) == ("alice", "CONTOSO", SECRET)
    assert SECRET not in repr(network) and SECRET not in str(network)
    assert PSCredential("bob@contoso.com", "x").GetNetworkCredential().Domain == "contoso.com"
    assert SecureString(SECRET).get_value() == SECRET and SecureString(SECRET).Length == len(SECRET)


def test_logging_json_and_exceptions_do_not_carry_the_password(caplog: pytest.LogCaptureFixture) -> None:
    cred = PSCredential("alice", SecureString(SECRET))
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("psremoting.test").debug("connecting with %s and %r, %s", cred, cred, cred.password)
    assert "alice" in caplog.text and SECRET not in caplog.text
    with pytest.raises(TypeError) as raised:
        json.dumps(cred)  # the standard encoder refuses it...
    assert SECRET not in str(raised.value)
    # ...and --output json writes it as ConvertTo-Json does.
    assert to_jsonable(cred) == {"UserName": "alice", "Password": "System.Security.SecureString"}
    assert to_jsonable(SecureString(SECRET)) == "System.Security.SecureString"
    try:
        raise RuntimeError(f"cannot log on with {cred} ({cred!r}, {cred.password})")
    except RuntimeError:
        text = traceback.format_exc()
    assert SECRET not in text


def test_a_traceback_through_the_api_does_not_show_the_password() -> None:
    """A bad option fails before any connection; its traceback (frames, message) has no secret."""
    with pytest.raises(psremoting.InvalidOptionError) as raised:
        psremoting.new_pssession("server01", credential=("alice", SECRET), authentication="basic")
    text = "".join(traceback.format_exception(raised.value))
    assert "Basic authentication over HTTP" in text and SECRET not in text


def test_credentials_compare_and_survive_pickling_for_worker_processes() -> None:
    cred = PSCredential("alice", SECRET)
    assert cred == PSCredential("alice", SecureString(SECRET)) and cred != PSCredential("alice", "other")
    copy = pickle.loads(pickle.dumps(cred))  # --processes hands credentials to workers this way
    assert copy == cred and copy.get_password() == SECRET


def test_bad_values_are_refused_clearly() -> None:
    with pytest.raises(psremoting.InvalidOptionError, match="needs a user name"):
        PSCredential("", SECRET)
    with pytest.raises(TypeError, match="str or a SecureString"):
        PSCredential("alice", 1234)  # type: ignore[arg-type]
    undecryptable = PSCredential("alice", SecureString(None, encrypted="AAAA"))
    with pytest.raises(psremoting.PSRemotingError, match="could not be decrypted"):
        undecryptable.get_password()
