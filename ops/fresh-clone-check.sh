#!/bin/bash
# A newcomer's first `make run` on a fresh clone (docs/benchmarks.md, "Start-up on a fresh clone"):
# seconds to /readyz 200 (answering, maybe degraded), three questions, seconds until nothing is degraded
# (the background colbert build attached), one more question, then the restart time. Needs port 8000 free.
#   ops/fresh-clone-check.sh [CLONE_DIR]     # default: ../fda-fresh-clone (deleted first)
#   READY_ONLY=1 ops/fresh-clone-check.sh     # stop after the first three answers
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
CLONE=${1:-$(dirname "$REPO")/fda-fresh-clone}
LOGS=$REPO/state/logs; mkdir -p "$LOGS"
rm -rf "$CLONE" && git clone -q "$REPO" "$CLONE" && cd "$CLONE"
T0=$(date +%s.%N)
echo "== start $(date -u +%H:%M:%S) at $(git rev-parse --short HEAD)"
( make run > $LOGS/fresh-make-run.log 2>&1 ) &
until curl -sf -o /tmp/readyz.json http://127.0.0.1:8000/readyz; do sleep 2; if ! pgrep -f "make run" >/dev/null; then echo "make run died"; tail -30 $LOGS/fresh-make-run.log; exit 1; fi; done
T1=$(date +%s.%N)
echo "== ready (200) after $(echo "$T1 - $T0" | bc) s"; cat /tmp/readyz.json; echo
for q in "How do I enable CORS?" "How do I run code after the response is sent, like sending an email?" "Write me a poem about the sea"; do
  curl -s -X POST http://127.0.0.1:8000/v1/ask -H 'Content-Type: application/json' -d "{\"question\": \"$q\"}" > /tmp/ans.json
  python3 -c "import json;d=json.load(open('/tmp/ans.json'));print('Q:', '''$q'''); print('A:', d.get('answer')); print('cites:', [c['url'] for c in d.get('citations',[])], 'ms', d.get('timings_ms'), 'trace', d.get('trace_id'), 'reason', d.get('reason'))"
done
if [ "${READY_ONLY:-0}" = 1 ]; then  # stop after the first answers: the start-up time alone
  echo "== stopping (READY_ONLY=1) $(date -u +%H:%M:%S)"; pkill -f "fda serve"; sleep 5; pkill -f "fda.lm.worker"; exit 0
fi
until curl -s http://127.0.0.1:8000/readyz | python3 -c "import json,sys;d=json.load(sys.stdin);sys.exit(0 if not d['degraded'] else 1)"; do sleep 5; done
T2=$(date +%s.%N)
echo "== colbert attached after $(echo "$T2 - $T0" | bc) s"; curl -s http://127.0.0.1:8000/readyz; echo
curl -s -X POST http://127.0.0.1:8000/v1/ask -H 'Content-Type: application/json' -d '{"question": "How do I declare a header parameter with an underscore in its name?"}' > /tmp/ans.json
python3 -c "import json;d=json.load(open('/tmp/ans.json'));print('A:', d.get('answer')); print('cites:', [c['url'] for c in d.get('citations',[])], 'ms', d.get('timings_ms'), 'trace', d.get('trace_id'))"
echo "== done $(date -u +%H:%M:%S)"
pkill -f "fda serve"; sleep 5; pkill -f "fda.lm.worker"; sleep 2
T3=$(date +%s.%N)
( make run > $LOGS/fresh-make-run-2.log 2>&1 ) &
until curl -sf -o /tmp/readyz.json http://127.0.0.1:8000/readyz; do sleep 1; done
T4=$(date +%s.%N)
echo "== restart (make run again): ready after $(echo "$T4 - $T3" | bc) s"; cat /tmp/readyz.json; echo
