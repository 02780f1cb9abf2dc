#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages cgspawn builds with (and, with --tests, what its test suite
# needs). Safe to run again; uses apt's lock timeout because other apt runs may be going on.
set -eu
BUILD_PKGS="meson ninja-build g++ lld pkg-config libsystemd-dev libsdbus-c++-dev libspdlog-dev \
nlohmann-json3-dev libcli11-dev doctest-dev"
TEST_PKGS="util-linux procps iproute2 python3 python3-venv jq binutils shellcheck groff-base clang-format git"
pkgs=$BUILD_PKGS
[ "${1:-}" = "--tests" ] && pkgs="$pkgs $TEST_PKGS"
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
[ -z "$missing" ] && exit 0
[ "$(id -u)" = 0 ] || { echo "install-deps: run as root to install:$missing" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
# shellcheck disable=SC2086
apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $missing
