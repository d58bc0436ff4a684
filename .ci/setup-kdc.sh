#!/usr/bin/env bash
# Kerberos for the Kerberos tests (tests/emulator/test_auth_kerberos.py,
# tests/client/test_kerberos_client.py): the MIT KDC tools (Debian: krb5-kdc, krb5-admin-server,
# krb5-user; .ci/setup-system.sh installs them as root) and the Python bindings pyspnego uses for
# Kerberos (pyspnego[kerberos]: gssapi and krb5, built from source against libkrb5-dev) in .venv.
# Idempotent and quick when they are there. Never fails: without them the Kerberos tests skip,
# saying why.
#
# Safe to enable for the whole suite: once gssapi is importable, pyspnego's Negotiate tries
# Kerberos first for every login, and the machine's /etc/krb5.conf (Debian: ATHENA.MIT.EDU) would
# send that to DNS and remote KDCs. The repository's root conftest.py points KRB5_CONFIG (and the
# ccache/keytab variables) at a private loopback-only krb5.conf before any test runs.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v krb5kdc >/dev/null 2>&1 && [ ! -x /usr/sbin/krb5kdc ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq --no-install-recommends krb5-kdc krb5-admin-server krb5-user libkrb5-dev \
      >/dev/null 2>&1 || echo "setup-kdc: could not install the MIT KDC; Kerberos tests will skip" >&2
  else
    echo "setup-kdc: no MIT KDC and no root/apt-get; Kerberos tests will skip" >&2
  fi
fi
PY=.venv/bin/python
[ -x "$PY" ] || exit 0
"$PY" -c "import gssapi, krb5" >/dev/null 2>&1 && exit 0
if ! command -v krb5-config >/dev/null 2>&1; then
  echo "setup-kdc: krb5-config not found (Debian: apt-get install libkrb5-dev); the Python Kerberos" \
    "bindings cannot be built, Kerberos tests will skip" >&2
  exit 0
fi
log=$(mktemp)
started=$SECONDS
if "$PY" -m pip install -q "pyspnego[kerberos]>=0.11,<1" >"$log" 2>&1 \
    && "$PY" -c "import gssapi, krb5" >/dev/null 2>&1; then
  echo "setup-kdc: built and installed gssapi and krb5 in $((SECONDS - started))s"
else
  echo "setup-kdc: could not build/install gssapi and krb5 (pyspnego[kerberos]); Kerberos tests will" \
    "skip. Last lines of pip's output:" >&2
  tail -n 15 "$log" >&2
fi
rm -f "$log"
exit 0
