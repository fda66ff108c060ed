"""A stand-in for ``fda.lm.worker`` speaking the same protocol, with an OpenAI-ish chat endpoint.

    python fake_worker.py [--mode ok|crash|hang|deaf|slow] --model X --alias Y ...

ok: serve until stdin closes; crash: exit 3 before ready; hang: never report an address;
deaf: ignore stdin EOF and SIGTERM (only SIGKILL stops it); slow: answer after --delay seconds.
The chat answer is in DSPy's ChatAdapter format, for a signature whose output field is ``answer``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = "[[ ## answer ## ]]\nfake answer\n\n[[ ## completed ## ]]"


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--mode", default="ok")
    p.add_argument("--delay", type=float, default=0.0)
    p.add_argument("--model")
    p.add_argument("--alias", default="fake")
    p.add_argument("--ctx")
    p.add_argument("--threads")
    p.add_argument("--parallel")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    a = p.parse_args()
    if a.mode == "crash":
        sys.stderr.write("fake: cannot load model\n")
        return 3
    if a.mode == "hang":
        time.sleep(3600)
        return 0

    last: dict = {}  # the last POSTed body, for GET /last (what a client really sent)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, code: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _stream(self) -> None:
            """Server-sent events like llama.cpp's: content deltas, then a last chunk with ``timings``."""
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            timings = {"prompt_n": 10, "prompt_per_second": 100.0, "predicted_n": 2, "predicted_per_second": 20.0}
            for chunk in (
                {"choices": [{"index": 0, "delta": {"content": "fake"}}]},
                {"choices": [{"index": 0, "delta": {"content": " answer"}}]},
                {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "timings": timings},
            ):
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")

        def do_GET(self) -> None:
            if self.path == "/env":  # what the parent put in our environment
                self._send(200, {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")})
                return
            if self.path == "/last":
                self._send(200, last)
                return
            self._send(200, {"status": "ok"} if self.path == "/health" else {"data": []})

        def do_POST(self) -> None:
            n = int(self.headers.get("Content-Length", 0))
            request = json.loads(self.rfile.read(n) or b"{}")
            last.clear()
            last.update(request)
            if a.mode == "slow":
                time.sleep(a.delay)
            if request.get("stream"):
                self._stream()
                return
            self._send(
                200,
                {
                    "id": "fake-1",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": request.get("model", a.alias),
                    "choices": [
                        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": ANSWER}}
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                },
            )

    httpd = ThreadingHTTPServer((a.host, a.port), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    if a.mode == "deaf":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    sys.stdout.write(json.dumps({"address": f"http://{a.host}:{httpd.server_address[1]}", "pid": os.getpid()}) + "\n")
    sys.stdout.flush()
    if a.mode == "deaf":
        time.sleep(3600)
        return 0
    sys.stdin.buffer.read()  # until the parent closes the pipe
    httpd.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
