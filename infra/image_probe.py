"""Probe a running FastAPI Docs Assistant from outside (stdlib only: runs with any python3 on the host).

    python3 infra/image_probe.py ready http://127.0.0.1:18000      # exit 0 ready, 1 not yet, 3 ready but the LM
    python3 infra/image_probe.py ask http://127.0.0.1:18000 "How do I enable CORS?"

Used by infra/image_test.sh; ``check_answer`` is the contract the image test holds the service to.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Any


class ProbeError(Exception):
    """The service answered, but not what the contract asks for."""


def check_answer(body: Any) -> str:
    """Validate a POST /v1/ask body; return a one-line summary or raise ProbeError.

    A real answer must cite at least one docs section (URL with an anchor). A fallback answer (the LM
    failed, timed out or is not loaded) is accepted when it says so with ``fallback`` and still returns
    the sources it found.
    """
    if not isinstance(body, dict):
        raise ProbeError(f"expected a JSON object, got {type(body).__name__}")
    for key, kind in (("answer", str), ("citations", list), ("fallback", bool), ("cannot_answer", bool)):
        if not isinstance(body.get(key), kind):
            raise ProbeError(f"field {key!r} missing or not {kind.__name__}: {body.get(key)!r}")
    citations = body["citations"]
    if not citations:
        raise ProbeError(f"no citations (cannot_answer={body['cannot_answer']}): {body['answer'][:200]!r}")
    for c in citations:
        url = c.get("url", "") if isinstance(c, dict) else ""
        if not url.startswith("http") or "#" not in url:
            raise ProbeError(f"citation without a section URL (URL#anchor): {c!r}")
    if not body["fallback"] and not body["answer"].strip():
        raise ProbeError("empty answer without the fallback flag")
    label = "fallback (retrieval only, flagged)" if body["fallback"] else "answer"
    first = citations[0]["url"]
    return f"{label}: {len(body['answer'])} chars, {len(citations)} citations, first {first}"


def _request(url: str, payload: dict[str, Any] | None, timeout: float) -> tuple[int, Any]:
    data = json.dumps(payload).encode() if payload is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        raw = err.read()
        try:
            return err.code, json.loads(raw)
        except ValueError:
            return err.code, raw.decode(errors="replace")


READY, NOT_YET, DEGRADED = 0, 1, 3


def readiness(status: int, body: Any) -> int:
    """READY on 200; DEGRADED when only the LM failed (final: the app answers retrieval-only, flagged)."""
    if status == 200:
        return READY
    components = body.get("components") if isinstance(body, dict) else None
    if status == 503 and isinstance(components, dict) and "lm" in components:
        others_ok = all(v == "ok" for k, v in components.items() if k != "lm")
        if others_ok and components["lm"] != "ok":
            return DEGRADED
    return NOT_YET


def ready(base: str) -> int:
    try:
        status, body = _request(f"{base}/readyz", None, timeout=5)
    except (OSError, ValueError) as err:
        sys.stdout.write(f"not listening yet ({err.__class__.__name__})\n")
        return NOT_YET
    components = body.get("components") if isinstance(body, dict) else body
    sys.stdout.write(f"/readyz {status}: {json.dumps(components)[:300]}\n")
    return readiness(status, body)


def ask(base: str, question: str, timeout: float) -> int:
    status, body = _request(f"{base}/v1/ask", {"question": question}, timeout=timeout)
    if status != 200:
        sys.stdout.write(f"POST /v1/ask -> {status}: {json.dumps(body)[:1000]}\n")
        return 1
    try:
        summary = check_answer(body)
    except ProbeError as err:
        sys.stdout.write(f"POST /v1/ask -> 200 but {err}\n")
        return 1
    timings = body.get("timings_ms", {})
    sys.stdout.write(f"POST /v1/ask -> 200, {summary}; timings_ms {json.dumps(timings)}\n")
    sys.stdout.write(f"answer: {body['answer'][:300]!r}\n")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "ready":
        return ready(argv[1].rstrip("/"))
    if len(argv) >= 3 and argv[0] == "ask":
        timeout = float(argv[3]) if len(argv) > 3 else 300.0
        return ask(argv[1].rstrip("/"), argv[2], timeout)
    sys.stderr.write(__doc__ or "")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
