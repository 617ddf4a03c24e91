# Sourced by the install-*.sh scripts: apt_install "PACKAGE..." installs Debian packages, quietly, with sudo
# only when not root.
apt_install() {
    as_root=""
    if [ "$(id -u)" -ne 0 ]; then
        as_root="sudo"
    fi
    echo "installing $1 for the tests (apt-get install $1)" >&2
    $as_root apt-get update -qq
    # shellcheck disable=SC2086
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $1 >/dev/null
}
