#!/usr/bin/env bash
# Installs the Debian packages revive needs to build, test and run its demo.
# Only what is missing is installed, so a second run is quick and offline.
set -euo pipefail
# libsystemd-dev and dbus-daemon: rv-bench's peer section (sd-bus, a private bus); rv-bench builds without.
pkgs=(meson ninja-build pkg-config gcc libinih-dev libcmocka-dev valgrind gnuplot-nox
      libcapstone-dev libelf-dev clang libclang-rt-14-dev binutils lowdown man-db
      libfuse3-dev fuse3 libext2fs-dev e2fsprogs fuse2fs fio sqlite3 git tar liburing-dev
      libsystemd-dev dbus-daemon libseccomp-dev)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "revive: missing packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
fi
echo "revive: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
