"""Fakes for optimizer tests: a tiny gold set over the program tests' passages, a scripted DummyLM that
answers well only when it is shown demos (or on train questions, so bootstrapping finds traces), and
an MLflow store in a temporary folder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dspy
import pytest
from dspy.clients.engines.dummy_engine import AsyncDummyEngine, DummyEngine
from dspy.lm15 import Message, Response, TextPart, Usage
from dspy.utils import DummyLM

from eval.gold import GoldQuestion, Split, split_of
from eval.run import Tracking
from fda.settings import CompileSettings, Settings
from tests.programs.conftest import PASSAGES, FakeRetriever

CORS, MW, BG = (p.url for p in PASSAGES[:3])
TOPICS: dict[str, tuple[str, list[list[str]]]] = {
    # keyword in the question -> (gold section, must-mention groups)
    "cors": (CORS, [["CORSMiddleware"], ["allow_origins"]]),
    "middleware": (MW, [["@app.middleware"]]),
    "background": (BG, [["BackgroundTasks"]]),
}
OUT_OF_SCOPE_WORDS = ("weather", "recipe", "football")


def split_id(stem: str, split: Split) -> str:
    """The first ``<stem>-<n>`` id that lands in ``split`` (splits are a hash of the id)."""
    return next(f"{stem}-{i}" for i in range(1000) if split_of(f"{stem}-{i}") == split)


def gold(stem: str, split: Split, question: str) -> GoldQuestion:
    topic = next((t for t in TOPICS if t in question.lower()), None)
    base: dict[str, Any] = {"id": split_id(stem, split), "question": question, "reference_answer": "See the docs."}
    if topic is None:
        base |= {"category": "out_of_scope", "type": "out_of_scope", "expect_refusal": True}
    else:
        section, mentions = TOPICS[topic]
        base |= {"category": "middleware", "type": "howto", "gold_sections": [section], "must_mention": mentions}
    return GoldQuestion.model_validate(base)


TRAIN = [
    gold("tcors", "train", "How do I enable CORS for my frontend?"),
    gold("tmw", "train", "How do I create a middleware?"),
    gold("tbg", "train", "How do I run background tasks?"),
    gold("toos", "train", "What is the weather in Paris?"),
]
DEV = [
    gold("dcors", "dev", "Which CORS origins can I allow?"),
    gold("dmw", "dev", "Where does a middleware decorator go?"),
    gold("dbg", "dev", "Can background work run after the response?"),
    gold("doos", "dev", "Give me a recipe for pancakes"),
]
TEST = [gold("xcors", "test", "Does CORS need credentials?")]

QUESTION = re.compile(r"\[\[ ## question ## \]\]\n(.*?)\n\n", re.S)
REQUESTED = re.compile(r"`\[\[ ## (\w+) ## \]\]`")
SOURCE = re.compile(r"^\[(\d+)\] (.*?) \(FastAPI [^)]*\)\n(.*?)(?=\n\n\[\d+\] |\n\nRespond|\Z)", re.S | re.M)


class ScriptedLM(DummyLM):
    """Routes out-of-scope words away; answers by citing the source that matches the question's topic.
    Without demos in the prompt it answers questions outside ``easy`` badly (cites a wrong source, misses
    the facts): compiling adds demos, so a compiled program scores higher on dev than the uncompiled one."""

    def __init__(self, easy: set[str] | None = None) -> None:
        super().__init__({})
        self.easy = easy or set()
        self._install()

    def _install(self) -> None:
        self._engine_spec = _Engine(self)
        self._async_engine_spec = AsyncDummyEngine(self._engine_spec)

    def copy(self, **kwargs: Any) -> ScriptedLM:
        copied = super().copy(**kwargs)
        assert isinstance(copied, ScriptedLM)
        copied._install()
        return copied

    def respond(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        final = messages[-1]["content"]
        found = QUESTION.search(final)
        question = found.group(1) if found else ""
        if "[[ ## sources ## ]]" in final:
            return self._answer(question, final, has_demos=len(messages) > 2)
        if "[[ ## found ## ]]" in final:
            return {"done": True, "query": ""}
        if "[[ ## decision ## ]]" not in final:  # an optimizer's own prompt (MIPROv2 proposer): plain text fields
            return dict.fromkeys(REQUESTED.findall(final.rsplit("Respond with", 1)[-1]), "Cite the sources [n].")
        oos = any(w in question.lower() for w in OUT_OF_SCOPE_WORDS)
        return {"search_queries": [], "decision": "off_topic" if oos else "answer"}

    def _answer(self, question: str, prompt: str, has_demos: bool) -> dict[str, Any]:
        sources = {int(n): (title, text.strip()) for n, title, text in SOURCE.findall(prompt)}
        topic = next((t for t in TOPICS if t in question.lower()), None)
        right = next((n for n, (title, _) in sources.items() if topic and topic in title.lower()), None)
        if right is None:
            return {"cited": [], "answer": "The sources do not say.", "cannot_answer": True}
        if has_demos or question in self.easy:
            return {"cited": [right], "answer": f"{sources[right][1]} [{right}]", "cannot_answer": False}
        wrong = next(n for n in sources if n != right) if len(sources) > 1 else right
        return {"cited": [wrong], "answer": f"See the docs [{wrong}].", "cannot_answer": False}


class _Engine(DummyEngine):
    def _complete_messages(self, messages: list[dict[str, Any]]) -> Response:
        text = self.owner._format_answer_fields(self.owner.respond(messages))
        usage = Usage(input_tokens=10, output_tokens=5, total_tokens=15)
        return Response(id=None, model="dummy", message=Message.assistant([TextPart(text)]), finish_reason="stop",
                        usage=usage)  # fmt: skip


@pytest.fixture
def scripted_lm() -> ScriptedLM:
    return ScriptedLM(easy={g.question for g in TRAIN})


@pytest.fixture
def retriever() -> FakeRetriever:
    return FakeRetriever()


@pytest.fixture
def tracking(tmp_path: Path) -> Tracking:
    return Tracking(
        tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
        experiment="fda-compile-test",
        artifact_location=(tmp_path / "mlartifacts").as_uri(),
    )


@pytest.fixture
def compile_settings() -> CompileSettings:
    """Small and fast: two candidates, promotion decided on the four dev questions."""
    return CompileSettings(candidates=2, max_demos=2, promote_min_pairs=2, promote_paired_ci=True, autolog=True)


@pytest.fixture
def settings(tmp_path: Path, tracking: Tracking, compile_settings: CompileSettings) -> Settings:
    return Settings(
        state_dir=tmp_path,
        eval={"tracking_uri": tracking.tracking_uri, "artifact_location": tracking.artifact_location},
        compile=compile_settings.model_dump(),
    )


@pytest.fixture(autouse=True)
def _reset_dspy() -> Iterator[None]:
    with dspy.context(lm=None):
        yield
