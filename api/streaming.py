"""Token streaming of the answer field with ``dspy.streamify``.

A new listener and a new streamified wrapper per request: DSPy's listeners keep per-stream buffers,
so sharing them across concurrent requests mixes streams (tested in tests/api/test_stream_real.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import nullcontext
from typing import Any

import dspy
import regex
from dspy.streaming import StreamListener, StreamResponse

from fda.lm.adapter import scoped_adapter

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", '"': '"', "\\": "\\", "/": "/"}
# what closes the field: its quote, then the next key and its colon or the object's brace (fda/lm/grammar.py lets a
# bare quote into the text, so a quote alone does not end it)
_CLOSING = regex.compile(r'"[ \t\r\n]*(?:}|,[ \t\r\n]*"[A-Za-z_][A-Za-z0-9_]*"[ \t\r\n]*:)')


class JsonStringText:
    """The text of a JSON string value fed in chunks: the listener hands over the answer field as the model wrote it
    in the JSON adapter's output (``"To set a cookie ...\\n\\n```python ...",``: quotes, escapes and the comma after),
    seen in session 21 as ``token`` events a client would show verbatim. Escapes split across chunks are held until
    complete. A quote is held until what follows it shows whether it closes the field (then the next key, or the
    brace) or is a bare quote in the text (``allow_methods=["*"]``, which the output grammar allows). Chunks that do
    not open with a quote (another adapter's plain text) pass through unchanged."""

    def __init__(self) -> None:
        self.mode = ""  # "" until the first visible character; then "json" or "plain"
        self.done = False  # the closing quote was seen: the rest is JSON syntax
        self.pending = ""  # an escape not complete yet ("\\", "\\u00")
        self.held = ""  # a quote and what followed it, until it is known whether it closed the field

    def feed(self, chunk: str) -> str:
        if self.mode == "":
            stripped = chunk.lstrip()
            if not stripped:
                return ""
            self.mode = "json" if stripped.startswith('"') else "plain"
            chunk = stripped[1:] if self.mode == "json" else chunk
        if self.mode == "plain":
            return chunk
        out: list[str] = []
        for ch in chunk:
            if self.done:
                break
            if self.held:
                self.held += ch
                if _CLOSING.fullmatch(self.held):
                    self.done = True
                elif not _CLOSING.fullmatch(self.held, partial=True):  # a bare quote: it and what followed are text
                    held, self.held = self.held, ""
                    out.append('"')
                    out.append(self.feed(held[1:]) if held[1:] else "")
                continue
            if self.pending:
                self.pending += ch
                if self.pending.startswith("\\u"):
                    if len(self.pending) == 6:
                        try:
                            out.append(chr(int(self.pending[2:], 16)))
                        except ValueError:
                            out.append(self.pending)
                        self.pending = ""
                else:
                    out.append(_ESCAPES.get(ch, ch))
                    self.pending = ""
            elif ch == "\\":
                self.pending = ch
            elif ch == '"':
                self.held = ch
            else:
                out.append(ch)
        return "".join(out)


async def stream_program(program: Any, question: str, version: str | None) -> AsyncIterator[tuple[str, Any]]:
    """Yields ("token", text) while the answer is generated, then ("final", Prediction).

    The listener reads ``dspy.settings.adapter`` where the stream is consumed (here, not inside the
    program), so the adapter the program's LM is used with (fda/lm/adapter.py) is set around the stream,
    and DSPy's JSON markers are registered under its name.
    """
    listener = StreamListener(signature_field_name="answer", predict=program.answerer, predict_name="answerer")
    adapter = scoped_adapter(getattr(program, "answer_lm", None) or getattr(program, "lm", None))
    if adapter is not None:
        listener.adapter_identifiers[type(adapter).__name__] = listener.adapter_identifiers["JSONAdapter"]
    streaming = dspy.streamify(program, stream_listeners=[listener], include_final_prediction_in_output_stream=True)
    text = JsonStringText()
    with dspy.context(adapter=adapter) if adapter is not None else nullcontext():
        async for item in streaming(question=question, version=version):
            if isinstance(item, StreamResponse):
                if item.chunk and (chunk := text.feed(item.chunk)):
                    yield "token", chunk
            elif isinstance(item, dspy.Prediction):
                yield "final", item
