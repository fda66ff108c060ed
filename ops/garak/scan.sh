#!/bin/bash
# garak (NVIDIA's LLM vulnerability scanner, https://github.com/NVIDIA/garak) against a running service's
# /v1/ask, offline: the probes and settings are in ops/garak/scan.yaml (string and regex detectors only).
#   make run                              # in another shell: the service on :8000
#   ops/garak/scan.sh [URL] [PREFIX]      # default http://127.0.0.1:8000 and fda-<date>
#   PROBES=dan.STAN,goodside.Tag ops/garak/scan.sh ...   # other probes than scan.yaml's
#   python -m ops.garak.summary state/garak/garak/garak_runs/PREFIX.report.jsonl   # rows + table
# garak needs its own environment (transformers 5, its own pins): state/garak-venv, made on first use with the
# local CPU torch wheel first so pip never reaches for a CUDA build. Results: state/garak/; the summary writes
# eval/results/garak/PREFIX.jsonl. docs/security.md "A scan with garak" has the last one.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
URL=${1:-http://127.0.0.1:8000}
PREFIX=${2:-fda-$(date -u +%Y%m%d-%H%M%S)}
VENV=$REPO/state/garak-venv
if [ ! -x "$VENV/bin/garak" ]; then
  echo "== making $VENV (torch 2.13.0 CPU, garak 0.17.1): a few minutes, once"
  python3.11 -m venv "$VENV"
  "$VENV/bin/pip" install -q torch==2.13.0
  "$VENV/bin/pip" install -q garak==0.17.1
fi
curl -sf "$URL/readyz" > /dev/null || { echo "no ready service at $URL: start it first (make run)"; exit 2; }
mkdir -p "$REPO/state/garak"
CONFIG=$(mktemp --suffix=.yaml)
sed -e "s#http://127.0.0.1:8000/v1/ask#$URL/v1/ask#" -e "s#report_prefix: fda#report_prefix: $PREFIX#" \
  "$REPO/ops/garak/scan.yaml" > "$CONFIG"
if [ -n "${PROBES:-}" ]; then  # the folded probe_spec block replaced by one line
  python3 - "$CONFIG" "$PROBES" <<'PY'
import re, sys
path, probes = sys.argv[1], sys.argv[2]
text = open(path).read()
text = re.sub(r"  probe_spec: >-\n(?:    .*\n)+", f"  probe_spec: {probes}\n", text)
open(path, "w").write(text)
PY
fi
export XDG_DATA_HOME=$REPO/state/garak XDG_CACHE_HOME=$REPO/state/garak/cache XDG_CONFIG_HOME=$REPO/state/garak/config
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
"$VENV/bin/garak" --config "$CONFIG"
echo "== report: $REPO/state/garak/garak/garak_runs/$PREFIX.report.jsonl"
