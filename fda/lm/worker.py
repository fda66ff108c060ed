"""The local LM server process: llama.cpp (through ``xllamacpp``) serving one GGUF on 127.0.0.1.

    python -m fda.lm.worker --model state/models/qwen2.5-coder-0.5b.gguf --alias qwen2.5-coder-0.5b

Protocol with ``server.LocalServer``: once the model is loaded and the port bound, one JSON line
``{"address": "http://127.0.0.1:PORT", "pid": N}`` on stdout; then it serves until its stdin closes
(the parent stopped or died) or it gets SIGTERM/SIGINT, and exits within ``CLOSE_GRACE_S`` even when a generation
is in flight (llama.cpp's destructor waits for it: a service stopped after a timed-out answer waited 20 s on its
LM worker, session 21). llama.cpp logs to stderr.
``fda models serve`` runs the same server in the foreground (``serve_foreground``).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fda.lm.server import ServerConfig


def start_llama_server(config: ServerConfig) -> tuple[Any, str]:
    """An ``xllamacpp.Server`` for ``config`` (model loaded, HTTP bound) and its base URL."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = str(config.model_path)
    params.model_alias = {config.alias}
    params.n_ctx = config.context_size
    params.n_parallel = config.parallel
    params.cpuparams.n_threads = config.threads
    params.cpuparams_batch.n_threads = config.threads
    params.hostnames = [config.host]
    params.port = config.port
    speculative(params, config, xllamacpp)
    if config.lora_path is not None:  # an adapted model: llama.cpp applies the LoRA adapter to the base weights
        adapter = xllamacpp.CommonAdapterLoraInfo()
        adapter.path = str(config.lora_path)
        adapter.scale = 1.0
        params.lora_adapters = [adapter]
    server = xllamacpp.Server(params)
    return server, str(server.listening_address).rstrip("/")


def speculative(params: Any, config: ServerConfig, xllamacpp: Any) -> None:
    """lm.speculative: a draft model proposing tokens (same tokenizer), or proposals from the prompt's n-grams."""
    kinds = xllamacpp.common_speculative_type
    if config.speculative == "draft":
        if config.draft_path is None:
            raise ValueError("speculative decoding with a draft model needs --draft PATH")
        draft = params.speculative.draft
        draft.mparams.path = str(config.draft_path)
        draft.n_max = config.draft_max
        draft.cpuparams.n_threads = config.threads
        draft.cpuparams_batch.n_threads = config.threads
        params.speculative.types = [kinds.COMMON_SPECULATIVE_TYPE_DRAFT_SIMPLE]
    elif config.speculative == "ngram":
        params.speculative.draft.n_max = config.draft_max
        params.speculative.types = [kinds.COMMON_SPECULATIVE_TYPE_NGRAM_SIMPLE]


CLOSE_GRACE_S = 2  # seconds a stopping server may take to finish before the process is ended


def close_within(close: Callable[[], None], grace_s: int) -> None:
    """Run ``close`` (llama.cpp's orderly shutdown); if it has not returned after ``grace_s`` (a generation in flight
    that nobody will read), the process ends and the OS frees the model. The destructor holds the GIL while it waits
    for the generation, so no Python thread or handler could act: SIGALRM's default action (terminate) does."""
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    signal.alarm(max(1, grace_s))
    close()
    signal.alarm(0)


def serve_until(config: ServerConfig, stop: threading.Event, on_ready: Callable[[str], None]) -> None:
    """Serve ``config`` until ``stop`` is set; ``on_ready(address)`` once it answers."""
    server, address = start_llama_server(config)
    holder = [server]  # the only reference: clearing it runs the destructor
    del server
    try:
        on_ready(address)
        while not stop.wait(0.5):
            pass
    finally:
        # the destructor stops llama.cpp's HTTP loop and frees the model, after any generation in flight
        close_within(holder.clear, CLOSE_GRACE_S)


def serve_foreground(config: ServerConfig, on_ready: Callable[[str], None]) -> None:
    """For ``fda models serve``: serve until Ctrl-C or SIGTERM."""
    stop = threading.Event()
    _stop_on_signals(stop)
    serve_until(config, stop, on_ready)


def _stop_on_signals(stop: threading.Event) -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())


def _watch_stdin(stop: threading.Event) -> None:
    def run() -> None:
        sys.stdin.buffer.read()  # returns at EOF: the parent closed the pipe or died
        stop.set()

    threading.Thread(target=run, daemon=True).start()


def _announce(address: str) -> None:
    sys.stdout.write(json.dumps({"address": address, "pid": os.getpid()}) + "\n")
    sys.stdout.flush()


def parse_args(argv: Sequence[str] | None = None) -> ServerConfig:
    p = argparse.ArgumentParser(prog="python -m fda.lm.worker", description=__doc__)
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--alias", required=True)
    p.add_argument("--ctx", type=int, default=4096)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--parallel", type=int, default=1)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--speculative", choices=("none", "draft", "ngram"), default="none")
    p.add_argument("--draft", type=Path, default=None, help="the draft model's GGUF (--speculative draft)")
    p.add_argument("--draft-max", type=int, default=16)
    p.add_argument("--lora", type=Path, default=None, help="a LoRA adapter GGUF applied to --model")
    a = p.parse_args(argv)
    return ServerConfig(
        a.model, a.alias, a.ctx, a.threads, a.parallel, a.host, a.port, a.speculative, a.draft, a.draft_max, a.lora
    )


def main(argv: Sequence[str] | None = None) -> int:
    config = parse_args(argv)
    if not config.model_path.is_file():
        sys.stderr.write(f"model file not found: {config.model_path}\n")
        return 2
    if config.lora_path is not None and not config.lora_path.is_file():
        sys.stderr.write(f"LoRA adapter not found: {config.lora_path}\n")
        return 2
    stop = threading.Event()
    _stop_on_signals(stop)
    _watch_stdin(stop)
    serve_until(config, stop, _announce)
    return 0


if __name__ == "__main__":
    sys.exit(main())
