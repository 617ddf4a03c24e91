#!/bin/sh
# Chromium for the register's page tests (tests/register/test_browser.py drives it with Playwright): Debian's
# package, never a browser downloaded by Playwright. Installed unless it already is. Idempotent; uses sudo only
# when not root. The README's test command (what CI runs) starts with it.
set -eu
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
. "$(dirname "$0")/apt-install.sh"
apt_install chromium
