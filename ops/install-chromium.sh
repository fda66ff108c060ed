#!/usr/bin/env bash
# Headless Chromium for the UI's real-browser check (tests/ui/test_browser.py): Debian's `chromium` package.
# Idempotent: does nothing when chromium is already installed. Called by `make chromium` (and so `make test-slow`).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    echo "chromium already installed: $(chromium --version 2>/dev/null | head -1)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "error: chromium is missing and installing it needs root: apt-get install -y chromium" >&2
        exit 1
    fi
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
echo "installed: $(chromium --version 2>/dev/null | head -1)"
