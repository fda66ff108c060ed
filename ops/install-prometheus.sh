#!/usr/bin/env bash
# Prometheus for `make prometheus` and the slow test that scrapes the service (tests/api/test_prometheus_slow.py):
# Debian's `prometheus` package.
# Idempotent: does nothing when prometheus is already installed. Called by `make prometheus` and `make test-slow`.
set -euo pipefail
if command -v prometheus >/dev/null 2>&1; then
    echo "prometheus already installed: $(prometheus --version 2>/dev/null | head -1)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "error: prometheus is missing and installing it needs root: apt-get install -y prometheus" >&2
        exit 1
    fi
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus
echo "installed: $(prometheus --version 2>/dev/null | head -1)"
