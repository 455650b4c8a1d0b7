#!/usr/bin/env bash
# Installs, with apt-get, the Debian packages that building and testing
# libvicreg need, when any of them is missing. Sourced by the other scripts.
VICREG_PACKAGES=(
    build-essential g++ clang pkg-config meson ninja-build
    libopenblas-dev check python3 zlib1g-dev
    valgrind abigail-tools libclang-rt-14-dev
    python3-numpy python3-pytest python3-torch python3-pip python3-venv
    python3-setuptools cargo openmpi-bin libopenmpi-dev
    cmake python3-mesonpy python3-build debhelper dh-python lintian
    libblis-dev
)

vicreg_install_deps() {
    local missing=()
    for pkg in "${VICREG_PACKAGES[@]}" "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
}
