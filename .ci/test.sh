#!/usr/bin/env bash
# The README's test command: a virtual environment with the package and its test extras,
# then lint, types and the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -q -e ".[test]"
bash .ci/setup-kdc.sh  # gssapi/krb5 for the Kerberos tests (skipped without them; never fails)
.venv/bin/ruff check psremoting tests bench
.venv/bin/mypy
exec .venv/bin/python -m pytest -q "$@"
