"""Token streaming of the answer field with ``dspy.streamify``.

A new listener and a new streamified wrapper per request: DSPy's listeners keep per-stream buffers,
so sharing them across concurrent requests mixes streams (tested in tests/api/test_stream_real.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import dspy
from dspy.streaming import StreamListener, StreamResponse


async def stream_program(program: Any, question: str, version: str | None) -> AsyncIterator[tuple[str, Any]]:
    """Yields ("token", text) while the answer is generated, then ("final", Prediction)."""
    listener = StreamListener(signature_field_name="answer", predict=program.answerer, predict_name="answerer")
    streaming = dspy.streamify(program, stream_listeners=[listener], include_final_prediction_in_output_stream=True)
    async for item in streaming(question=question, version=version):
        if isinstance(item, StreamResponse):
            if item.chunk:
                yield "token", item.chunk
        elif isinstance(item, dspy.Prediction):
            yield "final", item
