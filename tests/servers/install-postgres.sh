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
. "$(dirname "$0")/apt-install.sh"
apt_install postgresql
installed
