"""The two ```yaml blocks of docs/ci-guide.md, a GitHub Actions job and a GitLab CI job, run
as their CI runners would run them, against a `psremoting emulator` process, and a job that
deploys does deploy: the exit codes, results files and failure step a pipeline relies on.

Why: these jobs are copied into pipelines as they stand; an expression the runner does not
substitute, a lost `pipefail`, a results file the artifacts miss or a `jq` filter that
prints nothing for a failed host must fail here, not in a reader's first failed deploy.

Each block is parsed with PyYAML. GitHub: each `run:` step runs in order in `bash --noprofile
--norc -eo pipefail -c` (the runner's default `bash` shell) with the step's `env:`, after
`${{ secrets.X }}` and `${{ github.sha }}` are substituted in both as the runner does
(secrets: the credential the emulator accepts; the sha a fixed 40-hex string); a step runs
as its `if:` says (none: only while no step failed; `failure()`: only after one did). GitLab:
`variables:` (with `$WIN_USER`/`$WIN_PASSWORD`, the masked CI/CD variables, expanded in them)
and `$CI_COMMIT_SHA` are the environment, and the `script:` entries run in order in one `bash
-e -c`, as the shell runner does; the file `artifacts.paths` names must exist afterwards.
Both run in a checkout folder holding deploy/hosts.txt and deploy/deploy.ps1, with the
`psremoting`, host routing (a sitecustomize endpoint override) and credential-free base
environment of test_docs_shell_blocks, whose emulator and helpers these are. `--ssl` runs
over HTTP: the route's URL decides the scheme. A second GitHub run names a host the route
sends to a closed port: the deploy step must fail with 255 (the exit code table: "a host could
not be connected to") and the failure step print that host's line, and only that one.

Pinned as not run, with the reasons in NOT_RUN (one more fails the test that lists them).
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from test_docs_shell_blocks import DEPLOY_PS1, PASSWORD, ROOT, USER, _reader_setup, emulator

from psremoting.cmdlets.invoke.results import load_schema

GUIDE = ROOT / "docs" / "ci-guide.md"
BLOCKS = [
    yaml.safe_load(b) for b in re.findall(r"^```yaml\n(.*?)^```$", GUIDE.read_text("utf-8"), re.M | re.S)
]
GITHUB = next(b for b in BLOCKS if "jobs" in b)
GITLAB = next(b for b in BLOCKS if "jobs" not in b)
SHA = "3f786850e387550fdab836ed7e6dc881de23001b"  # the commit the job runs for
SECRETS = {"secrets.WIN_USER": USER, "secrets.WIN_PASSWORD": PASSWORD, "github.sha": SHA}
HOSTS = ["web1", "web2"]  # deploy/hosts.txt of the checkout
DOWN = "web3"  # a host that does not answer (routed to a closed port)

# (what the step or script entry is, why it is not run here)
NOT_RUN = [
    ("uses: actions/checkout@v4", "the runner's: the test makes the checkout folder (deploy/...) itself"),
    ("uses: actions/setup-python@v5", "the runner's: the tests run on this Python"),
    ("run: pip install psremoting", "installs from PyPI (network); the worktree's package is on PATH"),
    ("script: pip install psremoting", "installs from PyPI (network); the worktree's package is on PATH"),
]


def _step_id(step: dict[str, Any]) -> str:
    return f"uses: {step['uses']}" if "uses" in step else f"run: {step['run'].strip()}"


def _not_run(what: str) -> str | None:
    return next((why for pinned, why in NOT_RUN if pinned == what), None)


def test_the_blocks_are_found_and_the_pinned_parts_are_the_known_ones() -> None:
    assert len(BLOCKS) == 2, "docs/ci-guide.md: a GitHub Actions job and a GitLab CI job"
    steps = [_step_id(s) for s in GITHUB["jobs"]["deploy"]["steps"]]
    entries = [f"script: {e}" for e in GITLAB["deploy"]["script"]]
    assert sorted(w for w in steps + entries if _not_run(w)) == sorted(w for w, _ in NOT_RUN)
    # What the jobs say is all this test runs them by (a `shell:` or `before_script:` would not be)
    assert all(
        set(s) <= {"name", "if", "env", "run", "uses", "with"} for s in GITHUB["jobs"]["deploy"]["steps"]
    )
    assert set(GITLAB["deploy"]) <= {"image", "variables", "script", "artifacts"}
    assert (
        len([s for s in steps if not _not_run(s)]) == 2 and len([e for e in entries if not _not_run(e)]) == 1
    )


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with emulator(tmp_path_factory.mktemp("drive-c")) as running:
        yield running


@pytest.fixture()
def closed_port() -> Iterator[int]:
    """A port bound, never listened on: connecting to it is refused, and nothing else takes it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def _checkout(
    tmp: Path, url: str, hosts: list[str], routes: dict[str, str] | None = None
) -> tuple[Path, dict[str, str]]:
    """The job's working directory, as a checkout of the repository has it, and the runner's
    environment without the credential (the job's own env/variables must give it)."""
    _, env = _reader_setup(tmp, url, routes)
    del env["PSREMOTING_USERNAME"], env["PSREMOTING_PASSWORD"]
    checkout = tmp / "checkout"
    (checkout / "deploy").mkdir(parents=True)
    (checkout / "deploy" / "hosts.txt").write_text("".join(f"{h}\n" for h in hosts), encoding="utf-8")
    (checkout / "deploy" / "deploy.ps1").write_text(DEPLOY_PS1, encoding="utf-8")
    return checkout, {**env, "CI": "true"}


def _github_expressions(text: str) -> str:
    def value(m: re.Match[str]) -> str:
        assert m.group(1) in SECRETS, (
            f"docs/ci-guide.md: ${{{{ {m.group(1)} }}}} is not given to the job here"
        )
        return SECRETS[m.group(1)]

    return re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", value, text)


def _run_github_job(
    checkout: Path, env: dict[str, str]
) -> dict[str, subprocess.CompletedProcess[str] | None]:
    """Each step of the job, by name or `run:` text: how it ended, None if skipped."""
    ran: dict[str, subprocess.CompletedProcess[str] | None] = {}
    failed = False
    for step in GITHUB["jobs"]["deploy"]["steps"]:
        if _not_run(_step_id(step)):
            continue
        condition = step.get("if", "success()")
        assert condition in ("success()", "failure()", "always()"), f"{step}: an `if:` this test does not run"
        name = step.get("name", step["run"])
        if condition != "always()" and (condition == "failure()") != failed:
            ran[name] = None
            continue
        step_env = {k: _github_expressions(str(v)) for k, v in step.get("env", {}).items()}
        ran[name] = done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", _github_expressions(step["run"])],
            cwd=checkout, env={**env, "GITHUB_SHA": SHA, **step_env}, capture_output=True, text=True,
            timeout=300, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        failed = failed or done.returncode != 0
    return ran


def _jsonl(path: Path) -> list[dict[str, Any]]:
    docs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for doc in docs:
        jsonschema.validate(doc, load_schema("hostResult"))
    return docs


def _deployed(host: dict[str, Any]) -> bool:
    """The host ran deploy/deploy.ps1 with the commit's sha as its --arg, once."""
    return host["status"] == "Completed" and host["output"] == [
        f"deploying version [{SHA}]",
        f"deployed version [{SHA}]",
    ]


def test_the_github_job_deploys_and_skips_the_failure_step(url: str, tmp_path: Path) -> None:
    checkout, env = _checkout(tmp_path, url, HOSTS)
    ran = _run_github_job(checkout, env)
    deploy = ran["Deploy to the Windows VMs"]
    assert deploy is not None and deploy.returncode == 0, deploy
    hosts = _jsonl(checkout / "results.jsonl")  # written by `tee`, as the step printed it
    assert deploy.stdout == (checkout / "results.jsonl").read_text(encoding="utf-8")
    assert sorted(h["host"] for h in hosts) == HOSTS and all(_deployed(h) for h in hosts), hosts
    assert ran["Show failed hosts"] is None, "if: failure() runs only after a failed step"


def test_the_github_job_fails_with_255_and_shows_the_host_down(
    url: str, tmp_path: Path, closed_port: int
) -> None:
    routes = {DOWN: f"http://127.0.0.1:{closed_port}/wsman"}
    checkout, env = _checkout(tmp_path, url, [*HOSTS, DOWN], routes)
    ran = _run_github_job(checkout, env)
    deploy, shown = ran["Deploy to the Windows VMs"], ran["Show failed hosts"]
    assert deploy is not None and deploy.returncode == 255, deploy  # through `| tee`: pipefail
    hosts = {h["host"]: h for h in _jsonl(checkout / "results.jsonl")}
    assert sorted(hosts) == sorted([*HOSTS, DOWN]) and all(_deployed(hosts[h]) for h in HOSTS), hosts
    assert hosts[DOWN]["status"] == "ConnectionFailed" and hosts[DOWN]["reason"], hosts[DOWN]
    assert shown is not None and shown.returncode == 0, shown
    assert shown.stdout == f"{DOWN}: ConnectionFailed: {hosts[DOWN]['reason']}\n", shown.stdout


def _gitlab_variables(text: str, given: dict[str, str]) -> str:
    def value(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2)
        assert name in given, f"docs/ci-guide.md: ${name} is not a variable the job is given here"
        return given[name]

    return re.sub(r"\$(?:\{(\w+)\}|(\w+))", value, text)


def test_the_gitlab_job_deploys_and_leaves_its_artifact(url: str, tmp_path: Path) -> None:
    job = GITLAB["deploy"]
    checkout, env = _checkout(tmp_path, url, [])
    given = {"WIN_USER": USER, "WIN_PASSWORD": PASSWORD, "CI_COMMIT_SHA": SHA}  # CI/CD and predefined
    env = {**env, **given, **{k: _gitlab_variables(str(v), given) for k, v in job["variables"].items()}}
    script = "\n".join(e for e in job["script"] if not _not_run(f"script: {e}"))
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=checkout, env=env, capture_output=True, text=True, timeout=300,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 0, done
    written = re.findall(r"> (\S+)", script)  # what the script writes is what the artifacts keep
    assert job["artifacts"]["when"] == "always" and written and job["artifacts"]["paths"] == written, written
    envelope = json.loads((checkout / written[0]).read_text(encoding="utf-8"))
    jsonschema.validate(envelope, load_schema())
    names = re.findall(r"-H (\S+)", script)
    assert envelope["exit_code"] == 0 and sorted(h["host"] for h in envelope["hosts"]) == sorted(names)
    assert names and all(_deployed(h) for h in envelope["hosts"]), envelope["hosts"]
