#!/usr/bin/env bash
# One Debian package and its command, installed once (idempotent: nothing to do when the command is there).
#   ops/install-debian-package.sh chromium     # `make chromium`: the UI's real-browser check (tests/ui/test_browser.py)
#   ops/install-debian-package.sh prometheus   # `make prometheus-bin`: `make prometheus`, tests/api/test_prometheus_slow.py
set -euo pipefail
PACKAGE=${1:?usage: ops/install-debian-package.sh PACKAGE [COMMAND]}
COMMAND=${2:-$PACKAGE}
if command -v "$COMMAND" >/dev/null 2>&1; then
    echo "$PACKAGE already installed: $("$COMMAND" --version 2>/dev/null | head -1)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "error: $PACKAGE is missing and installing it needs root: apt-get install -y $PACKAGE" >&2
        exit 1
    fi
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$PACKAGE"
echo "installed: $("$COMMAND" --version 2>/dev/null | head -1)"
