"""Fixture state for UI tests, made by the real code paths: eval runs through ``eval.run.execute`` with a
fake program and judge, labels through ``eval.store.save_labels``, the query log through the API's spool
and flusher, a small corpus store with the ingest schema.

    python -m tests.ui.fixtures /tmp/ui-demo        # a demo state folder (FDA_STATE_DIR=/tmp/ui-demo fda ui)
"""

from __future__ import annotations

import hashlib
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import dspy

from eval.gold import GoldQuestion, gold_hash, load_gold
from eval.labels import HumanLabel, answer_sha
from eval.run import RunSpec, execute
from eval.store import save_labels
from fda.types import Citation, Passage

LATEST = "0.141.1"
FILLER = [  # sections no fake program ever retrieves: they show up as "never retrieved"
    ("https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware", "tutorial", ["CORS", "Use CORSMiddleware"]),
    ("https://fastapi.tiangolo.com/advanced/websockets/#websockets-client", "advanced", ["WebSockets", "Client"]),
    ("https://fastapi.tiangolo.com/deployment/docker/#build-a-docker-image", "deployment", ["Docker", "Build"]),
    ("https://fastapi.tiangolo.com/how-to/graphql/#graphql-libraries", "how-to", ["GraphQL", "Libraries"]),
]


def chunk_id(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def passage(url: str, score: float) -> Passage:
    anchor = url.rsplit("#", 1)[-1].replace("-", " ")
    page = url.split("#")[0].rstrip("/").rsplit("/", 1)[-1].replace("-", " ").title()
    return Passage(
        chunk_id=chunk_id(url),
        url=url,
        heading_path=[page, anchor.capitalize()],
        text=f"{page}: how to {anchor}. Declare it in your path operation and FastAPI does the rest.",
        version=LATEST,
        score=score,
    )


def sample_gold(n: int = 14, split: str = "dev") -> list[GoldQuestion]:
    """A deterministic mix of question types from the real gold set."""
    rows = [r for r in load_gold("v1") if r.split == split]
    by_type: dict[str, list[GoldQuestion]] = {}
    for r in rows:
        by_type.setdefault(r.type.value, []).append(r)
    picked: list[GoldQuestion] = []
    while len(picked) < n and any(by_type.values()):
        for items in by_type.values():
            if items and len(picked) < n:
                picked.append(items.pop(0))
    return picked


class FakeProgram:
    """Answers gold questions with a fixed skill: finds the gold section with probability ``skill``."""

    def __init__(self, rows: list[GoldQuestion], skill: float, seed: int, fail: tuple[str, ...] = ()) -> None:
        self.by_question = {r.question: r for r in rows}
        self.skill = skill
        self.seed = seed
        self.fail = fail
        self.others = [r.gold_sections[0] for r in rows if r.gold_sections]

    def __call__(self, question: str, version: str | None = None) -> dspy.Prediction:
        gold = self.by_question[question]
        if gold.id in self.fail:
            raise TimeoutError("the LM did not answer in 60 s")
        rng = random.Random(f"{self.seed}-{gold.id}")
        hit = bool(gold.gold_sections) and rng.random() < self.skill
        urls = [u for u in self.others if u not in gold.gold_sections][:5]
        if hit:
            urls.insert(rng.randrange(0, 2), gold.gold_sections[0])
        passages = [passage(u, round(20.0 - 1.5 * i + rng.random(), 3)) for i, u in enumerate(urls)]
        declined = gold.expect_refusal or (not hit and rng.random() < 0.5)
        if declined:
            answer, cites = "I can't answer that from the FastAPI docs.", []
        else:
            top = passages[0]
            answer = f"{(gold.reference_answer if hit else '') or 'Use the documented approach.'} [1]"
            cites = [
                Citation(
                    number=1,
                    chunk_id=top.chunk_id,
                    url=top.url,
                    title=top.title,
                    snippet=top.text[:120],
                    version=LATEST,
                )
            ]
        return dspy.Prediction(
            answer=answer,
            citations=cites,
            passages=passages,
            cannot_answer=declined and not gold.expect_refusal,
            refused=gold.expect_refusal,
            invalid_citations=0 if hit else 1,
            fallback=False,
            usage={
                "prompt_tokens": 900 + rng.randrange(300),
                "completion_tokens": 80 + rng.randrange(60),
                "lm_calls": 1,
            },
        )


class FakeJudge:
    """Correct when the answer carries the reference answer, wrong otherwise."""

    def __call__(self, question: str, reference_answer: str, answer: str) -> dspy.Prediction:
        verdict = "correct" if reference_answer and reference_answer in answer else "wrong"
        return dspy.Prediction(verdict=verdict, justification=f"compared with the reference: {verdict}")


@dataclass
class FixtureState:
    state_dir: Path
    rows: list[GoldQuestion]
    run_ids: list[str] = field(default_factory=list)
    trace_ids: list[str] = field(default_factory=list)

    @property
    def eval_db(self) -> Path:
        return self.state_dir / "eval.duckdb"

    @property
    def logs_db(self) -> Path:
        return self.state_dir / "logs.duckdb"

    @property
    def corpus_db(self) -> Path:
        return self.state_dir / "fda.duckdb"


def make_runs(state: FixtureState, bootstrap_samples: int = 200) -> None:
    """Two runs over the same questions: a weaker bm25 one first, then a better hybrid one (one failure)."""
    for backend, skill, fail in (("bm25", 0.45, ()), ("hybrid", 0.85, (state.rows[2].id,))):
        spec = RunSpec(
            program="rag",
            backend=backend,
            split="dev",
            gold_version="v1",
            gold_hash=gold_hash("v1"),
            corpus_hash="fixture",
            workers=2,
            bootstrap_samples=bootstrap_samples,
        )
        run_id = f"2026010{len(state.run_ids) + 1}-120000-rag-{backend}-dev"
        execute(
            spec,
            FakeProgram(state.rows, skill, seed=len(state.run_ids), fail=fail),
            state.rows,
            run_dir=state.state_dir / "reports" / run_id,
            eval_db=state.eval_db,
            judge=FakeJudge(),  # type: ignore[arg-type]
        )
        state.run_ids.append(run_id)


def make_labels(state: FixtureState, n: int = 5) -> None:
    """Human labels on the latest run (by 'alice'): judged-correct and judged-wrong answers alternating,
    agreeing with the judge on all but the first."""
    from itertools import chain, zip_longest

    from eval.results import load_results

    results = load_results(state.state_dir / "reports" / state.run_ids[-1] / "results.jsonl")
    judged = [r for r in results.values() if r.judge is not None and not r.error and not r.judge.automatic]
    wrong = [r for r in judged if r.judge and r.judge.verdict == "wrong"]
    right = [r for r in judged if r.judge and r.judge.verdict != "wrong"]
    picked = [r for r in chain.from_iterable(zip_longest(right, wrong)) if r is not None][:n]
    labels = []
    for i, res in enumerate(picked):
        assert res.judge is not None
        verdict = res.judge.verdict if i else "partly"
        labels.append(
            HumanLabel(
                run_id=state.run_ids[-1],
                question_id=res.question_id,
                answer_label=verdict,  # type: ignore[arg-type]
                citations_ok=i % 2 == 0,
                labeller="alice",
                answer_sha=answer_sha(res.output.answer),
            )
        )
    save_labels(state.eval_db, labels)


def make_query_log(state: FixtureState) -> None:
    """Real questions through the API's own spool and flusher: answered, declined, and a down-vote."""
    from api.querylog import Spool, flush_spool

    spool_dir = state.state_dir / "spool"
    spool = Spool(spool_dir)
    gold = next(r for r in state.rows if r.gold_sections)
    cited = passage(gold.gold_sections[0], 1.0)
    records = [
        (
            "How do I enable CORS?",
            False,
            [
                Citation(
                    number=1, chunk_id=cited.chunk_id, url=cited.url, title=cited.title, snippet="...", version=LATEST
                )
            ],
        ),
        ("How do I configure Celery beat schedules?", True, []),
        ("how do I configure celery beat schedules?", True, []),
        ("Does FastAPI support HTTP/3?", True, []),
    ]
    for i, (question, declined, cites) in enumerate(records):
        trace = f"trace-{i}"
        state.trace_ids.append(trace)
        spool.append(
            "query",
            {
                "trace_id": trace,
                "question": question,
                "version": LATEST,
                "program": "rag",
                "program_version": "uncompiled",
                "answer": "I can't answer that from the docs." if declined else "Use CORSMiddleware [1].",
                "citations": [c.model_dump() for c in cites],
                "cannot_answer": declined,
                "refused": False,
                "fallback": False,
                "invalid_citations": 0,
                "cached": False,
                "latency_ms": 1200.0 + i,
                "timings": {"total": 1200.0},
                "usage": {},
                "error": None,
                "ts": time.time() - 60 * i,
            },
        )
    spool.append("feedback", {"trace_id": "trace-0", "rating": "down", "comment": "cited the wrong page"}, durable=True)
    spool.close()
    flush_spool(spool_dir, state.logs_db)


def make_corpus(state: FixtureState) -> None:
    """Sections of the latest version: every gold section of the sample plus a few never-retrieved ones."""
    from index.ingest.store import open_store

    urls: dict[str, tuple[str, list[str] | None]] = {
        u: ("release-notes" if "release-notes" in u else u.split("/")[3], None)
        for r in state.rows
        for u in r.gold_sections
    }
    urls.update({u: (area, heading) for u, area, heading in FILLER})
    with open_store(state.corpus_db) as con:
        con.execute(
            "INSERT INTO corpus_manifest (version, origin, is_latest) VALUES (?, 'fixture', true), ('0.68.0', 'fixture', false)",
            [LATEST],
        )
        for i, (url, (area, heading)) in enumerate(sorted(urls.items())):
            p = passage(url, 0.0)
            kind = "release" if area == "release-notes" else "doc"
            con.execute(
                "INSERT INTO sections (section_id, doc_id, version, path, url, anchor, ordinal, level, title, heading_path, kind, area, text) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 2, ?, ?, ?, ?, ?)",
                [
                    chunk_id(url),
                    "d",
                    LATEST,
                    url.split("#")[0],
                    url,
                    url.rsplit("#", 1)[-1],
                    i,
                    (heading or p.heading_path)[-1],
                    heading or p.heading_path,
                    kind,
                    area,
                    p.text,
                ],
            )


def make_state(state_dir: Path, n_questions: int = 14, bootstrap_samples: int = 200) -> FixtureState:
    state_dir.mkdir(parents=True, exist_ok=True)
    state = FixtureState(state_dir, sample_gold(n_questions))
    make_runs(state, bootstrap_samples)
    make_labels(state)
    make_query_log(state)
    make_corpus(state)
    make_traces(state)
    return state


def make_traces(state: FixtureState, n: int = 12) -> None:
    """Spans as `fda serve` records them (the real exporter, fda/tracing.py): a question per trace, some cached,
    declined, one failed."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.trace import Status, StatusCode

    from fda.tracing import JsonlSpanExporter

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(JsonlSpanExporter(state.state_dir / "logs" / "traces.jsonl")))  # type: ignore[arg-type]
    tracer = provider.get_tracer("fixture")
    for i in range(n):
        cached, declined, failed = i % 4 == 3, i % 5 == 4, i == n - 1
        with tracer.start_as_current_span("ask", attributes={"program": "rag", "stream": i % 2 == 0}) as ask:
            ask.set_attribute("cached", cached)
            ask.set_attribute("cannot_answer", declined)
            if not cached:
                with tracer.start_as_current_span("guard"):
                    pass
                with tracer.start_as_current_span("retrieve", attributes={"passages": 3}):
                    for signal in ("retrieve.dense", "retrieve.bm25", "retrieve.colbert"):
                        with tracer.start_as_current_span(signal):
                            pass
                with tracer.start_as_current_span("answer"):
                    attrs = {"lm.model": "openai/qwen", "lm.cached": False, "lm.prompt_tokens": 900}
                    with tracer.start_as_current_span("lm", attributes={**attrs, "lm.completion_tokens": 120}):
                        time.sleep(0.002)
                    with tracer.start_as_current_span("verify", attributes={"sentences": 4, "removed": 1}):
                        pass
            if failed:
                ask.set_status(Status(StatusCode.ERROR, "LM timeout"))
    provider.shutdown()


if __name__ == "__main__":  # pragma: no cover - a demo folder for screenshots and manual checks
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "state/ui-demo")
    made = make_state(target, n_questions=int(sys.argv[2]) if len(sys.argv) > 2 else 40, bootstrap_samples=1000)
    sys.stdout.write(f"demo state in {target}: runs {', '.join(made.run_ids)}\n")
