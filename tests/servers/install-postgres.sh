#!/bin/sh
# PostgreSQL for the tests (tests/servers/postgres.py starts a throwaway server of its own): installed from
# Debian's packages unless it already is. Idempotent; uses sudo only when not root. The README's test command
# (what CI runs) starts with it.
set -eu
installed() {
    command -v initdb >/dev/null 2>&1 && return 0
    command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ] && return 0
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}
if installed; then
    exit 0
fi
as_root=""
if [ "$(id -u)" -ne 0 ]; then
    as_root="sudo"
fi
echo "installing PostgreSQL for the tests (apt-get install postgresql)" >&2
$as_root apt-get update -qq
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
installed
