"""The whole path with a scripted DummyLM and a temporary MLflow store: compile (BootstrapFewShot random
search), log, register, alias champion, load by alias into a fresh program, answer; then the refusals."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from mlflow.tracking import MlflowClient

from eval.run import Tracking
from fda.errors import CompileError, ManifestMismatchError
from fda.settings import CompileSettings, Settings
from optimizers import UNCOMPILED, load_champion
from optimizers.compile import CompileOutcome, CompileSpec, compile_program
from optimizers.registry import CHALLENGER, ProgramRegistry
from optimizers.serving import load_version
from optimizers.shared import shared
from programs.factory import build_answer_program
from tests.optimizers.conftest import CORS, DEV, TEST, TRAIN, ScriptedLM
from tests.programs.conftest import FakeRetriever

CORPUS = "corpus-a"


def spec(cfg: CompileSettings, retriever: FakeRetriever, optimizer: str = "bootstrap") -> CompileSpec:
    return CompileSpec(
        program="rag", optimizer=optimizer, gold_version="fixture", gold_hash="gold-1", corpus_hash=CORPUS,
        retriever=retriever.name, lm="dummy/scripted", config=cfg,
    )  # fmt: skip


def run(tmp_path: Path, name: str, cfg: CompileSettings, tracking: Tracking, **kw: Any) -> CompileOutcome:
    retriever = FakeRetriever()
    return compile_program(
        spec(cfg, retriever),
        train=kw.pop("train", TRAIN),
        dev=kw.pop("dev", DEV),
        build=lambda lm: build_answer_program("rag", shared(retriever), lm=lm),
        student_lm=ScriptedLM(easy={g.question for g in TRAIN}),
        teacher_lm=None,
        tracking=tracking,
        work_dir=tmp_path / name,
    )


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("index.ingest.pipeline.corpus_hash", lambda db: CORPUS)


def test_compile_registers_promotes_and_serves_the_champion(
    tmp_path: Path, tracking: Tracking, compile_settings: CompileSettings, settings: Settings, served: None
) -> None:
    outcome = run(tmp_path, "c1", compile_settings, tracking)

    # compiled beats uncompiled on dev (the scripted LM answers well when shown demos), beyond noise
    assert outcome.baseline.score == pytest.approx((0.0 * 3 + 1.0) / 4)  # factless answers earn 0
    assert outcome.compiled.score == pytest.approx(1.0)
    assert outcome.promoted and outcome.version == "1", outcome.decision.reason

    client = MlflowClient(tracking_uri=tracking.tracking_uri)
    mlrun = client.get_run(outcome.run_id)
    assert mlrun.info.status == "FINISHED"
    assert mlrun.data.metrics["dev.score"] == pytest.approx(1.0)
    assert mlrun.data.metrics["baseline.dev.score"] == pytest.approx(outcome.baseline.score)
    assert mlrun.data.metrics["compile.lm_calls"] > 0
    assert mlrun.data.params["optimizer"] == "bootstrap" and mlrun.data.params["lm"] == "dummy/scripted"
    names = {a.path for a in client.list_artifacts(outcome.run_id, "program")}
    assert {"program/program.json", "program/manifest.json", "program/dev_scores.json"} <= names
    children = client.search_runs([mlrun.info.experiment_id], f"tags.mlflow.parentRunId = '{outcome.run_id}'")
    assert {c.info.run_name for c in children} >= {"bootstrap-0", "bootstrap-1"}  # one child run per candidate

    manifest = json.loads((outcome.work_dir / "program" / "manifest.json").read_text())
    assert manifest["gold"]["hash"] == "gold-1" and manifest["index"] == {"corpus_hash": CORPUS, "retriever": "fake"}
    assert manifest["lm"] == {"model": "dummy/scripted", "teacher": None} and manifest["seed"] == 0
    assert manifest["gold"]["train_ids"] == [g.id for g in TRAIN] and manifest["dspy_version"]
    assert manifest["predictors"]["answerer"]["demos"] == 1  # capped: an answerer demo carries whole sources

    registry = ProgramRegistry(tracking.tracking_uri)
    assert registry.champion("rag") == "1" and registry.alias_version("rag", CHALLENGER) is None

    program, version = load_champion("rag", settings, FakeRetriever(), ScriptedLM())
    assert version == "fda-rag/1"
    assert len(program.answerer.demos) == 1 and program.answerer.demos[0]["answer"]
    pred = program(question=DEV[0].question)  # no "easy" questions: good only thanks to the loaded demos
    assert [c.url for c in pred.citations] == [CORS] and "allow_origins" in pred.answer


def test_no_gain_over_the_champion_registers_a_challenger_only(
    tmp_path: Path, tracking: Tracking, compile_settings: CompileSettings, served: None
) -> None:
    first = run(tmp_path, "c1", compile_settings, tracking)
    second = run(tmp_path, "c2", compile_settings, tracking)
    assert first.promoted and not second.promoted
    assert second.incumbent_name == "champion v1" and second.decision.delta == pytest.approx(0.0)
    registry = ProgramRegistry(tracking.tracking_uri)
    assert registry.champion("rag") == "1" and registry.alias_version("rag", CHALLENGER) == "2"

    registry.promote("rag", "2", "manual")  # fda programs promote 2
    assert registry.champion("rag") == "2" and registry.alias_version("rag", CHALLENGER) is None
    assert registry.rollback("rag") == "1" and registry.champion("rag") == "1"  # fda programs rollback
    with pytest.raises(CompileError, match="no earlier champion"):
        registry.rollback("rag")


def test_a_crash_halfway_marks_the_run_failed_and_promotes_nothing(
    tmp_path: Path, tracking: Tracking, compile_settings: CompileSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = run(tmp_path, "c1", compile_settings, tracking)

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("optimizer exploded")

    monkeypatch.setattr("optimizers.compile.run_bootstrap", explode)
    with pytest.raises(RuntimeError, match="exploded"):
        run(tmp_path, "c2", compile_settings, tracking)

    client = MlflowClient(tracking_uri=tracking.tracking_uri)
    exp = client.get_experiment_by_name(tracking.experiment)
    assert exp is not None
    failed = [r for r in client.search_runs([exp.experiment_id]) if r.info.run_id != first.run_id]
    parents = [r for r in failed if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1 and parents[0].info.status == "FAILED"
    assert "optimizer exploded" in parents[0].data.tags["fda.error"]
    registry = ProgramRegistry(tracking.tracking_uri)
    assert [v.version for v in registry.versions("rag")] == ["1"]  # nothing registered by the failed run
    assert registry.champion("rag") == "1"


def test_manifest_mismatch_is_refused_with_the_reason(
    tmp_path: Path,
    tracking: Tracking,
    compile_settings: CompileSettings,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    run(tmp_path, "c1", compile_settings, tracking)
    registry = ProgramRegistry(tracking.tracking_uri)
    fresh = build_answer_program("rag", FakeRetriever(), lm=ScriptedLM())
    with pytest.raises(ManifestMismatchError, match=r"corpus-a.*corpus-b"):
        load_version(registry, "rag", "1", fresh, corpus_hash="corpus-b", retriever="fake")
    with pytest.raises(ManifestMismatchError, match=r"retriever 'fake', serving 'bm25'"):
        load_version(registry, "rag", "1", fresh, corpus_hash=CORPUS, retriever="bm25")
    assert fresh.answerer.demos == []  # refused before anything was loaded

    monkeypatch.setattr("index.ingest.pipeline.corpus_hash", lambda db: "corpus-b")  # re-ingested since compiling
    with caplog.at_level(logging.WARNING, logger="optimizers.serving"):
        program, version = load_champion("rag", settings, FakeRetriever(), ScriptedLM())
    assert version == UNCOMPILED and program.answerer.demos == []
    assert "compiled on corpus 'corpus-a', the ingested corpus is 'corpus-b'" in caplog.text


def test_no_store_or_no_champion_serves_uncompiled(
    tmp_path: Path, settings: Settings, tracking: Tracking, caplog: pytest.LogCaptureFixture, served: None
) -> None:
    with caplog.at_level(logging.WARNING, logger="optimizers.serving"):
        _, version = load_champion("rag", settings, FakeRetriever(), ScriptedLM())
    assert version == UNCOMPILED and "no MLflow store" in caplog.text
    ProgramRegistry(tracking.tracking_uri).client.search_experiments()  # creates the (empty) store
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="optimizers.serving"):
        _, version = load_champion("rag", settings, FakeRetriever(), ScriptedLM())
    assert version == UNCOMPILED and "has no champion" in caplog.text


def test_test_rows_never_reach_a_compile(tmp_path: Path, tracking: Tracking, compile_settings: CompileSettings) -> None:
    with pytest.raises(CompileError, match="used as dev belong to another split"):
        run(tmp_path, "c1", compile_settings, tracking, dev=[*DEV, *TEST])
    with pytest.raises(CompileError, match="train split is empty"):
        run(tmp_path, "c2", compile_settings, tracking, train=[])
    assert not Path(tracking.tracking_uri.removeprefix("sqlite:///")).exists()  # refused before any run started


def v2_rows(rows: list[Any], split: str) -> list[Any]:
    """The fixture rows as gold v2 stores them: with an assigned split."""
    return [g.model_copy(update={"assigned_split": split}) for g in rows]


def test_a_v2_compile_selects_on_dev_select_and_refuses_dev_confirm_and_test(
    tmp_path: Path, tracking: Tracking, compile_settings: CompileSettings, served: None
) -> None:
    train = v2_rows(TRAIN, "train")
    outcome = run(tmp_path, "v2", compile_settings, tracking, train=train, dev=v2_rows(DEV, "dev-select"))
    assert outcome.compiled.score == pytest.approx(1.0) and outcome.promoted
    for wrong in ("dev-confirm", "test"):
        with pytest.raises(CompileError, match="used as dev-select belong to another split"):
            run(tmp_path, f"v2-{wrong}", compile_settings, tracking, train=train,
                dev=[*v2_rows(DEV, "dev-select"), *v2_rows(TEST, wrong)])  # fmt: skip
