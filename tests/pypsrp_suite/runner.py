"""Run pypsrp 0.9.1's own test suite live against the emulator.

    python -m tests.pypsrp_suite.runner [--transport https|http|all] [--junit FILE] [-- PYTEST ARGS]

pypsrp's source distribution carries its tests; they switch from recorded answers to a real
server when ``PYPSRP_SERVER``, ``PYPSRP_USERNAME``, ``PYPSRP_PASSWORD``, ``PYPSRP_PORT`` and
``PYPSRP_AUTH`` are set (and ``test_integration.py`` with ``PYPSRP_RUN_INTEGRATION``). This
starts emulators (HTTPS, and HTTP where Negotiate seals every message), sets those variables
and runs the live-capable tests (`plugin`) in a pytest subprocess, once per transport.

The sdist comes from ``pip download --no-deps --no-binary :all: pypsrp==0.9.1`` into
``PSREMOTING_PYPSRP_SDIST`` (default ``.cache/pypsrp-0.9.1`` under the repository), kept
between runs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from psremoting.emulator import Emulator

__all__ = ["PYPSRP_VERSION", "SUITE_USERS", "main", "run_transport", "sdist_dir"]

PYPSRP_VERSION = "0.9.1"
REPO = Path(__file__).resolve().parents[2]
#: The account pypsrp's tests log on with (an administrator on the emulated host).
SUITE_USERS = {"vagrant": "V@grant-Passw0rd"}
TRANSPORTS = ("https", "http")


def sdist_dir() -> Path:
    """The unpacked pypsrp sdist (downloaded once with pip)."""
    target = Path(os.environ.get("PSREMOTING_PYPSRP_SDIST", REPO / ".cache" / f"pypsrp-{PYPSRP_VERSION}"))
    if (target / "tests" / "tests_pypsrp" / "conftest.py").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"pypsrp=={PYPSRP_VERSION}",
                "-d",
                tmp,
            ],
            check=True,
        )
        archive = next(Path(tmp).glob(f"pypsrp-{PYPSRP_VERSION}.tar.gz"))
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        (Path(tmp) / f"pypsrp-{PYPSRP_VERSION}").rename(target)
    return target


def _emulator(https: bool, root: Path) -> Emulator:
    from psremoting.emulator.suite_config import pypsrp_suite_config

    return Emulator(
        https=https,
        users=dict(SUITE_USERS),
        root=root,
        auth=("basic", "ntlm", "negotiate", "credssp"),  # test_integration loops over all four
        allow_unencrypted=True,  # pypsrp's own test host allows it (its JEA test reads the setting)
        **pypsrp_suite_config(),
    )


def run_transport(transport: str, pytest_args: list[str], junit: Path | None = None) -> int:
    """One pass of the live tests over `transport` (``https``: Negotiate over TLS, ``http``:
    Negotiate with message encryption); pytest's exit code."""
    sdist = sdist_dir()
    user, password = next(iter(SUITE_USERS.items()))
    with (
        tempfile.TemporaryDirectory() as tmp,
        _emulator(False, Path(tmp) / "http") as plain,
        _emulator(True, Path(tmp) / "https") as tls,
    ):
        env = dict(os.environ)
        env.update(
            PYPSRP_SERVER="127.0.0.1",
            PYPSRP_USERNAME=user,
            PYPSRP_PASSWORD=password,
            PYPSRP_AUTH="negotiate",
            PYPSRP_PORT=str(tls.port) if transport == "https" else "5985",
            PSREMOTING_SUITE_HTTP_PORT=str(plain.port),
            PYPSRP_RUN_INTEGRATION="1",
            PYPSRP_HTTP_PORT=str(plain.port),
            PYPSRP_HTTPS_PORT=str(tls.port),
            PYTHONPATH=os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]),
        )
        paths = [] if any(a.startswith("tests/") for a in pytest_args) else ["tests/tests_pypsrp"]
        command = [
            sys.executable,
            "-m",
            "pytest",
            *paths,
            "-p",
            "tests.pypsrp_suite.plugin",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "--timeout=120",
            "-q",
            "-rfE",
        ]
        if junit is not None:
            command += ["--junitxml", str(junit)]
        return subprocess.run(command + pytest_args, cwd=sdist, env=env).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transport", choices=[*TRANSPORTS, "all"], default="all")
    parser.add_argument("--junit", type=Path, help="a JUnit XML file per transport: FILE-<transport>.xml")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args(argv)
    codes = []
    for transport in TRANSPORTS if args.transport == "all" else (args.transport,):
        junit = args.junit.with_name(f"{args.junit.stem}-{transport}.xml") if args.junit else None
        print(f"== pypsrp {PYPSRP_VERSION} live suite over {transport} ==", flush=True)
        codes.append(run_transport(transport, args.pytest_args, junit))
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())
