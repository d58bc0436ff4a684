#!/usr/bin/env bash
# System packages the tests use: tmux (driving the shell through a terminal), openssl,
# and an MIT Kerberos KDC (for the Kerberos tests). Idempotent; skips what is present.
set -uo pipefail
need=()
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v krb5kdc >/dev/null 2>&1 || [ -x /usr/sbin/krb5kdc ] || need+=(krb5-kdc krb5-admin-server)
command -v kinit >/dev/null 2>&1 || need+=(krb5-user)
command -v krb5-config >/dev/null 2>&1 || need+=(libkrb5-dev)  # headers to build gssapi/krb5
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
      || echo "setup-system: could not install ${need[*]}; the tests that need them will skip" >&2
  else
    echo "setup-system: missing ${need[*]} (not root or no apt-get); the tests that need them will skip" >&2
  fi
fi
exit 0
