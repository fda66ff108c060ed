"""Answers while ``fda serve`` builds an index in the background: latency, timeouts and the build's progress.

On a fresh clone ``make run`` answers at once while the colbert index, then the older docs versions' neural
indexes, build in a child process (index/retrieval/background.py): about half an hour on two cores, so a
newcomer's first questions all meet a build. This starts ``fda serve`` on a copy of an index folder whose dense
index lacks the older versions (so every run starts the same build), asks a few questions one after another
through /v1/ask, records each answer's wall time, whether it fell back to retrieval-only, and what /readyz said
about the build before and after, then stops the service (the unfinished build leaves no manifest behind).

    python -m ops.bench.answers_during_build --label yield --out eval/results/bench/build-yield
    FDA_RETRIEVAL__BUILD_YIELD_MAX_PAUSE_S=0 python -m ops.bench.answers_during_build --label no-yield ...
    python -m ops.bench.answers_during_build --label idle --no-build ...   # the same questions, nothing building
    FDA_LM__PRIME_CACHE=false python -m ops.bench.answers_during_build --no-build --first-after-s 15 --label ...
    python -m ops.bench.answers_during_build --fresh-colbert --first-when-running cc1plus --label ...

``--fresh-colbert`` leaves the colbert index out and gives the service an empty ``TORCH_EXTENSIONS_DIR``, so its
background build starts as on a fresh clone: colbert-ai's C++ extensions are compiled first (ninja, a compiler
process per file); ``--first-when-running cc1plus`` asks the first question while the compiler runs.

The DSPy response cache is off (``FDA_LM__CACHE=false``) so every answer calls the LM. Other ``FDA_*``
variables in the environment reach the service unchanged.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

log = logging.getLogger(__name__)

QUESTIONS = (
    "How do I run code after the response is sent, like sending an email?",
    "How do I declare a query parameter that is optional with a maximum length?",
    "How do I return a different status code from a path operation?",
)


def _readyz(client: httpx.Client) -> dict[str, Any] | None:
    try:
        resp = client.get("/readyz", timeout=5)
    except httpx.HTTPError:
        return None
    return resp.json() if resp.status_code == 200 else None


def _builds(ready: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list((ready or {}).get("builds", []))


def _running(pattern: str) -> bool:
    """A process whose command line matches ``pattern`` (pgrep -f) is running and not stopped."""
    import psutil

    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout.split()
    states = []
    for pid in found:
        with contextlib.suppress(psutil.Error):
            states.append(psutil.Process(int(pid)).status())
    return any(state != psutil.STATUS_STOPPED for state in states)


def _wait_for_process(pattern: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if _running(pattern):
            return True
        time.sleep(0.5)
    return False


def prepare_indexes(source: Path, dest: Path, backend: str, drop_versions: bool) -> None:
    """Copy ``source``'s index folders to ``dest``; with ``drop_versions``, the ``backend`` indexes keep only
    their latest version in the manifest (their files for other versions are left out), so the service sees
    the older versions as missing and builds them."""
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        target = dest / folder.name
        manifest = json.loads((folder / "manifest.json").read_text())
        if not (drop_versions and folder.name.startswith(f"{backend}-")):
            shutil.copytree(folder, target)
            continue
        latest = manifest["latest"]
        older = {v for v in manifest["versions"] if v != latest}
        shutil.copytree(
            folder,
            target,
            ignore=lambda d, names, top=str(folder), drop=frozenset(older): [
                n for n in names if d == top and n in drop
            ],
        )
        manifest["versions"] = {latest: manifest["versions"][latest]}
        (target / "manifest.json").write_text(json.dumps(manifest, indent=2))


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    state = Path(args.state_dir)
    work = Path(tempfile.mkdtemp(prefix="fda-build-bench-"))
    index_dir = work / "indexes"
    index_dir.mkdir()
    prepare_indexes(state / "indexes", index_dir, args.backend, drop_versions=not (args.no_build or args.fresh_colbert))
    env = {
        **os.environ,
        "FDA_LM__CACHE": "false",
        "FDA_RETRIEVAL__INDEX_DIR": str(index_dir),
        "FDA_RETRIEVAL__NEURAL_VERSIONS": "latest" if args.no_build or args.fresh_colbert else "background",
    }
    if args.fresh_colbert:
        for colbert in index_dir.glob("colbert-*"):
            shutil.rmtree(colbert)
        env["TORCH_EXTENSIONS_DIR"] = str(work / "torch_extensions")
    log_path = state / "logs" / f"answers-during-build-{args.label}.log"
    url = f"http://127.0.0.1:{args.port}"
    rows: list[dict[str, Any]] = []
    with log_path.open("w") as out:
        serve = subprocess.Popen(
            [sys.executable, "-m", "fda.cli", "serve", "--port", str(args.port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    t_start = time.monotonic()
    try:
        with httpx.Client(base_url=url) as client:
            ready = None
            while ready is None:
                if serve.poll() is not None:
                    raise SystemExit(f"fda serve exited with {serve.returncode}; see {log_path}")
                if time.monotonic() - t_start > args.ready_timeout_s:
                    raise SystemExit(f"fda serve not ready after {args.ready_timeout_s:.0f} s; see {log_path}")
                time.sleep(1)
                ready = _readyz(client)
            ready_s = time.monotonic() - t_start
            log.info("ready after %.0f s; builds: %s", ready_s, _builds(ready))
            time.sleep(args.first_after_s)  # a newcomer reading the start-up lines and typing a question
            if args.first_when_running and not _wait_for_process(args.first_when_running, args.ready_timeout_s):
                raise SystemExit(f"no process matching {args.first_when_running!r} within {args.ready_timeout_s:.0f} s")
            for i, question in enumerate(QUESTIONS[: args.questions]):
                before = _builds(_readyz(client))
                helper = _running(args.first_when_running) if args.first_when_running else None
                t0 = time.monotonic()
                resp = client.post("/v1/ask", json={"question": question}, timeout=args.request_timeout_s)
                latency = time.monotonic() - t0
                body = resp.json()
                after = _builds(_readyz(client))
                row = {
                    "label": args.label,
                    "i": i,
                    "question": question,
                    "status": resp.status_code,
                    "latency_s": round(latency, 2),
                    "since_ready_s": round(t0 - t_start - ready_s, 1),
                    "fallback": body.get("fallback"),
                    "reason": body.get("reason"),
                    "refused": body.get("refused"),
                    "completion_tokens": (body.get("usage") or {}).get("completion_tokens"),
                    "answer_chars": len(body.get("answer") or ""),
                    "helper_running_before": helper,
                    "build_before": before,
                    "build_after": after,
                }
                rows.append(row)
                state_after = after[0]["state"] if after else "none"
                log.info(
                    "[%s] q%d: %5.1f s  fallback=%s  tokens=%s  build=%s",
                    args.label,
                    i,
                    latency,
                    row["fallback"],
                    row["completion_tokens"],
                    state_after,
                )
    finally:
        os.killpg(serve.pid, signal.SIGINT)
        try:
            serve.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
        shutil.rmtree(work, ignore_errors=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--label", required=True, help="Names the run in the rows and the output file.")
    parser.add_argument("--out", type=Path, default=Path("eval/results/bench/answers-during-build"))
    parser.add_argument("--state-dir", default=os.environ.get("FDA_STATE_DIR", "state"))
    parser.add_argument("--backend", default="dense", help="The index whose older versions are dropped (rebuilt).")
    parser.add_argument("--no-build", action="store_true", help="Nothing builds: the idle baseline.")
    parser.add_argument("--questions", type=int, default=len(QUESTIONS), choices=range(1, len(QUESTIONS) + 1))
    parser.add_argument("--first-after-s", type=float, default=0.0, help="Wait this long after ready to ask.")
    parser.add_argument(
        "--fresh-colbert", action="store_true", help="No colbert index, no compiled extensions: a fresh clone's build."
    )
    parser.add_argument("--first-when-running", help="Ask once a process matching this (pgrep -f) runs, e.g. cc1plus.")
    parser.add_argument("--port", type=int, default=8013)
    parser.add_argument("--ready-timeout-s", type=float, default=600.0)
    parser.add_argument("--request-timeout-s", type=float, default=300.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    rows = run(args)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{args.label}.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    log.info("wrote %s", path)


if __name__ == "__main__":
    main()
