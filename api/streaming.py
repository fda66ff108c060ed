"""Token streaming of the answer field with ``dspy.streamify``.

A new listener and a new streamified wrapper per request: DSPy's listeners keep per-stream buffers,
so sharing them across concurrent requests mixes streams (tested in tests/api/test_stream_real.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import nullcontext
from typing import Any

import dspy
from dspy.streaming import StreamListener, StreamResponse

from fda.lm.adapter import scoped_adapter


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
    with dspy.context(adapter=adapter) if adapter is not None else nullcontext():
        async for item in streaming(question=question, version=version):
            if isinstance(item, StreamResponse):
                if item.chunk:
                    yield "token", item.chunk
            elif isinstance(item, dspy.Prediction):
                yield "final", item
