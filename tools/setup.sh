#!/usr/bin/env bash
# Installs what the build and tests need from Debian's packages; a no-op
# when everything is already there. Needs root (or sudo) only to install.
set -euo pipefail

PACKAGES=(
  cmake make g++ clang lld ccache pkg-config  # lld: links in a fifth of ld's time
  protobuf-compiler libprotobuf-dev protobuf-compiler-grpc libgrpc++-dev
  libabsl-dev libspdlog-dev libsqlite3-dev sqlite3
  libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev zlib1g-dev libcpp-httplib-dev
  python3 python3-grpcio python3-protobuf postgresql-15 libpq-dev openssl
  libjemalloc-dev  # tccd's allocator (TCC_JEMALLOC)
  systemd dpkg-dev file  # tests/packaging: systemd-analyze, cpack (dpkg-shlibdeps, file)
  python3-selenium chromium chromium-driver  # the dashboard's browser test
)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
