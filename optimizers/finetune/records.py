"""The answer step's prompt, exactly as the served program builds it, for each training question.

    lm = RecordingLM()
    program = build_program("rag", retriever, lm=lm, ...)     # the served program, with this LM
    prompt = record(program, lm, row.question)                 # Prompt(messages, shown) or None

The program runs as served (guards, scope gate, retrieval, focused passages, the schema JSON adapter) with an
LM that records the messages it is sent and declines at once. The answer step's messages are the prompt a
fine-tuned model will see at serving time, byte for byte; a question the program stops before the LM (the
guard, the scope gate) gives none: the model never sees it served either.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dspy
from dspy.adapters.json_adapter import JSONAdapter
from dspy.clients.engines.dummy_engine import DummyEngine
from dspy.utils import DummyLM

from fda.lm.adapter import SchemaJSONAdapter
from optimizers.finetune.targets import Shown
from signatures.answer import CitedAnswer

Messages = list[dict[str, str]]
SOURCES_FIELD = "[[ ## sources ## ]]\n"
SOURCE_START = re.compile(r"\n\n(?=\[\d+\] )")


class RecordingLM(DummyLM):
    """Records every call's messages; answers each with an empty decline (so the program stops right after).

    It carries the served model's name (``openai/<local model>``, as ``make_lm`` names it), so the program is built
    and run as for that model: the schema JSON adapter, and routing off for the embedded models (docs/lm.md)."""

    def __init__(self, served: str = "qwen2.5-coder-0.5b") -> None:
        quick = {"cited": [], "answer": "", "cannot_answer": True}
        super().__init__(itertools.repeat(quick), adapter=JSONAdapter())
        self.model = f"openai/{served}"
        self.calls: list[Messages] = []
        recorder = self

        class _Recording(DummyEngine):
            def _complete_messages(self, messages: Messages) -> Any:
                recorder.calls.append([dict(m) for m in messages])
                return super()._complete_messages(messages)

        self._engine_spec = _Recording(self)


@dataclass(frozen=True)
class Prompt:
    messages: Messages  # system + user, as sent
    shown: tuple[Shown, ...]  # the numbered sources in the user message, with their URLs


def is_answer_call(messages: Sequence[dict[str, str]]) -> bool:
    """The answer step's call (not the router's): its system message names every CitedAnswer output field."""
    system = messages[0].get("content", "") if messages else ""
    return all(f"`{name}`" in system for name in CitedAnswer.output_fields)


def sources_in(user: str) -> list[tuple[int, str]]:
    """The numbered source blocks of the answer step's user message: (number, block text)."""
    if SOURCES_FIELD not in user:
        return []
    body = user.split(SOURCES_FIELD, 1)[1]
    body = body.split("\n\nRespond with", 1)[0]
    out = []
    for block in SOURCE_START.split(body.strip()):
        match = re.match(r"\[(\d+)\] ", block)
        if match:
            out.append((int(match.group(1)), block))
    return out


def record(program: dspy.Module, lm: RecordingLM, question: str, version: str | None = None) -> Prompt | None:
    """The answer step's prompt for ``question``, or None when the program answered without the LM."""
    before = len(lm.calls)
    with dspy.context(adapter=SchemaJSONAdapter()):  # the embedded models' adapter, as served
        pred = program(question=question, version=version)
    calls = [c for c in lm.calls[before:] if is_answer_call(c)]
    if not calls:
        return None
    messages = calls[-1]
    blocks = sources_in(messages[-1].get("content", ""))
    passages = list(getattr(pred, "passages", []) or [])
    if not blocks or len(passages) < len(blocks):
        return None
    shown = tuple(Shown(number, passages[number - 1].url, text) for number, text in blocks)
    return Prompt(messages, shown)
