"""colbert-ai and RAGatouille print progress to stdout; route it to the debug log instead.

``fda search --json`` must print only JSON, and library code must not print. Their known-harmless
warnings (a CUDA grad scaler on a CPU machine, deprecated torch.cuda.amp) are silenced too.

Redirecting stdout is process-wide, so blocks are serialised by a lock: use it around loading and
building (rare), not around every search.
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
import warnings
from collections.abc import Iterator

log = logging.getLogger(__name__)
_LOCK = threading.RLock()


class _LogWriter(io.TextIOBase):
    """A stdout stand-in that sends each line to the debug log as it is written (nothing is lost if the
    process dies inside the block)."""

    def __init__(self) -> None:
        self._partial = ""

    def write(self, text: str) -> int:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            if line.strip():
                log.debug("colbert: %s", line.rstrip())
        return len(text)

    def flush(self) -> None:
        if self._partial.strip():
            log.debug("colbert: %s", self._partial.rstrip())
        self._partial = ""


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    writer = _LogWriter()
    try:
        with _LOCK, contextlib.redirect_stdout(writer), warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module=r"torch\.cuda")
            warnings.filterwarnings("ignore", category=FutureWarning)
            warnings.filterwarnings("ignore", message=r"(?s).*RAGatouille.*")
            yield
    finally:
        writer.flush()
