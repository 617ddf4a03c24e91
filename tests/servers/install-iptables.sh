#!/bin/sh
# iptables for the test that cuts a bot's network to its database (tests/matrix/test_standby.py drops the packets of
# that one process's connections on loopback, and nothing else). Debian's package, installed unless it already is.
# Idempotent; uses sudo only when not root. The README's test command (what CI runs) starts with it.
set -eu
if command -v iptables >/dev/null 2>&1; then
    exit 0
fi
. "$(dirname "$0")/apt-install.sh"
apt_install iptables
command -v iptables >/dev/null 2>&1
