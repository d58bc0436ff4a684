#!/usr/bin/env bash
# Kerberos for the emulator's Kerberos tests (tests/emulator/test_auth_kerberos.py): the MIT KDC
# tools (Debian: krb5-kdc, krb5-admin-server, krb5-user, libkrb5-dev) and, only when asked with
# PSREMOTING_KERBEROS_TESTS=1, the Python bindings pyspnego uses for Kerberos (gssapi, krb5) in
# .venv. Without them the Kerberos tests skip, saying why. Idempotent.
#
# Why opt-in: once gssapi is importable, pyspnego's Negotiate tries Kerberos first for every
# client login, and Debian's default /etc/krb5.conf (krb5-config) names the ATHENA.MIT.EDU KDCs:
# every Negotiate test would then resolve kerberos.mit.edu. Enable it only together with a
# session-wide KRB5_CONFIG pointing at a private krb5.conf without realms (tests/conftest.py).
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
if [ "${PSREMOTING_KERBEROS_TESTS:-0}" = 1 ] && [ -x .venv/bin/python ] \
    && ! .venv/bin/python -c "import gssapi, krb5" >/dev/null 2>&1; then
  .venv/bin/python -m pip install -q "gssapi>=1.8" "krb5>=0.5" >/dev/null 2>&1 \
    || echo "setup-kdc: could not install gssapi/krb5 into .venv; Kerberos tests will skip" >&2
fi
exit 0
