#!/bin/sh
# A Docker daemon for the image and compose tests (tests/servers/docker.py starts one of its own): Debian's docker.io,
# with iptables and mmdebstrap (which makes the local base image: Docker Hub is out of reach), and the compose plugin
# v2, which bookworm does not package: trixie's docker-compose package, fetched by apt from a separate list that
# leaves the machine's sources alone (it needs only glibc >= 2.34). Installed unless already there. Idempotent;
# uses sudo only when not root. The README's test command (what CI runs) starts with it.
set -eu
. "$(dirname "$0")/apt-install.sh"
if ! command -v dockerd >/dev/null 2>&1 || ! command -v mmdebstrap >/dev/null 2>&1; then
    apt_install "docker.io iptables mmdebstrap"
fi
if [ -x /usr/libexec/docker/cli-plugins/docker-compose ]; then
    exit 0
fi
as_root=""
if [ "$(id -u)" -ne 0 ]; then
    as_root="sudo"
fi
echo "installing Debian trixie's docker-compose (the compose plugin v2) for the tests" >&2
lists=$(mktemp -d)
trap 'rm -rf "$lists"' EXIT
chmod 755 "$lists"  # apt downloads as its own user
cat > "$lists/trixie.sources" <<SOURCES
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
mkdir -p "$lists/lists/partial"
trixie="-o Dir::Etc::SourceList=$lists/trixie.sources -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$lists/lists"
# shellcheck disable=SC2086
apt-get $trixie update -qq
# shellcheck disable=SC2086
(cd "$lists" && apt-get $trixie download docker-compose >/dev/null 2>&1 && chmod 644 ./*.deb)
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$lists"/docker-compose_*.deb >/dev/null
