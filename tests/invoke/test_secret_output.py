"""`psremoting invoke --output json` writes a credential as ConvertTo-Json does: no password."""

from __future__ import annotations

import io
import json
from typing import Any

from psremoting.cli.main import main
from psremoting.protocol.secrets import PSCredential, SecureString

SECRET = "Js0n-S3cret"


def test_json_output_shows_a_credential_without_its_password(
    make_fleet: Any, capsys: Any, monkeypatch: Any
) -> None:
    make_fleet(
        "web1", handlers={"Get-StoredSecret": lambda ctx: [PSCredential("bob", SECRET), SecureString(SECRET)]}
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    for output in ("json", "jsonl", "text"):
        code = main(["invoke", "-H", "web1", "-c", "Get-StoredSecret", "--output", output])
        out, err = capsys.readouterr()
        assert code == 0 and SECRET not in out + err
        assert "System.Security.SecureString" in out
    code = main(["invoke", "-H", "web1", "-c", "Get-StoredSecret", "--output", "json"])
    assert code == 0
    (host,) = json.loads(capsys.readouterr().out)["hosts"]
    assert host["output"] == [
        {"UserName": "bob", "Password": "System.Security.SecureString"},
        "System.Security.SecureString",
    ]
