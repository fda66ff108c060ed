#!/bin/bash
# A newcomer presses Ctrl+C in the first minutes of a fresh clone's `make run`, while the background ColBERT build
# compiles colbert-ai's C++ extensions, then runs `make run` again (docs/operations.md, "Start-up on a fresh
# clone"). Checks: nothing of the build is left running or stopped after the first service ends, what lock files
# the killed compile left, and that the second start's build gets past the compile (all four extensions built)
# instead of waiting on a lock for ever. Needs port 8000 free.
#   ops/fresh-clone-interrupt.sh [CLONE_DIR]     # default: ../fda-fresh-clone (deleted first)
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
CLONE=${1:-$(dirname "$REPO")/fda-fresh-clone}
LOGS=$REPO/state/logs; mkdir -p "$LOGS"
EXT=$CLONE/state/torch_extensions
rm -rf "$CLONE" && git clone -q "$REPO" "$CLONE" && cd "$CLONE"
T0=$(date +%s)
echo "== start $(date -u +%H:%M:%S) at $(git rev-parse --short HEAD)"
setsid make run > "$LOGS/interrupt-make-run-1.log" 2>&1 &  # its own process group, as a terminal's foreground job
MAKE_PID=$!
until pgrep -f "cc1plus" > /dev/null; do
  sleep 1
  kill -0 $MAKE_PID 2> /dev/null || { echo "make run ended before any compile"; tail -20 "$LOGS/interrupt-make-run-1.log"; exit 1; }
  [ $(( $(date +%s) - T0 )) -gt 1200 ] && { echo "no compile within 20 min"; exit 1; }
done
echo "== compiling after $(( $(date +%s) - T0 )) s: $(pgrep -fa cc1plus | grep -o '[a-z_]*\.cpp' | head -1); Ctrl+C"
kill -INT -- -$MAKE_PID
for _ in $(seq 1 60); do kill -0 $MAKE_PID 2> /dev/null || break; sleep 1; done
sleep 10
LEFT=$(pgrep -fa "cc1plus|ninja -v|fda.cli index|fda.lm.worker|fda serve" | grep -v pgrep)
echo "== after the service ended: left running or stopped: ${LEFT:-nothing}"
echo "== lock files left: $(ls $EXT/*/lock 2> /dev/null | tr '\n' ' ')"
T1=$(date +%s)
setsid make run > "$LOGS/interrupt-make-run-2.log" 2>&1 &
MAKE_PID=$!
until [ "$(ls $EXT/*/*.so 2> /dev/null | wc -l)" -ge 4 ]; do
  sleep 2
  kill -0 $MAKE_PID 2> /dev/null || { echo "the second make run ended"; tail -20 "$LOGS/interrupt-make-run-2.log"; exit 1; }
  [ $(( $(date +%s) - T1 )) -gt 900 ] && { echo "== FAIL: the extensions were not all built within 15 min (a lock?)"; ls -la $EXT/*/; kill -INT -- -$MAKE_PID; exit 1; }
done
echo "== second start: all four extensions built $(( $(date +%s) - T1 )) s after make run"
grep -h "stale compile lock" "$CLONE"/state/logs/index-colbert.log "$LOGS/interrupt-make-run-2.log" 2> /dev/null | cut -c1-200
curl -s http://127.0.0.1:8000/readyz | python3 -c "import json,sys; print(json.load(sys.stdin).get('builds'))"
kill -INT -- -$MAKE_PID; sleep 10
echo "== done $(date -u +%H:%M:%S)"
