"""The end of the compile path: the API serves the champion loaded the way `fda serve` loads it
(``api.wiring.load_programs`` -> ``optimizers.serving.load_champion``), or the uncompiled program with a
warning when the champion cannot be served (re-ingested corpus, corrupted ``program.json``, opted out)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from fastapi.testclient import TestClient
from mlflow.tracking import MlflowClient

from api.main import create_app
from api.services import Services
from api.wiring import load_programs
from eval.run import Tracking
from fda.settings import CompileSettings, Settings
from optimizers import UNCOMPILED
from optimizers.compile import CompileOutcome
from tests.api.conftest import FakeSources
from tests.optimizers.conftest import CORS, DEV, ScriptedLM
from tests.optimizers.test_compile import CORPUS, run
from tests.programs.conftest import FakeRetriever

VERSIONS = ["0.68.0", "0.141.1"]
QUESTION = DEV[0].question  # not one the scripted LM finds easy: only the champion's demos make it cite CORS


def program_json(tracking: Tracking, outcome: CompileOutcome) -> Path:
    """The registered artifact itself (what `load_champion` downloads), not the compile's work copy."""
    uri = MlflowClient(tracking_uri=tracking.tracking_uri).get_run(outcome.run_id).info.artifact_uri
    path = Path(unquote(urlparse(uri).path)) / "program" / "program.json"
    assert path.is_file()
    return path


def reingested(monkeypatch: pytest.MonkeyPatch, tracking: Tracking, outcome: CompileOutcome) -> Settings | None:
    monkeypatch.setattr("index.ingest.pipeline.corpus_hash", lambda db: "corpus-b")
    return None


def corrupted(monkeypatch: pytest.MonkeyPatch, tracking: Tracking, outcome: CompileOutcome) -> Settings | None:
    program_json(tracking, outcome).write_text('{"answerer": {"demos": [', encoding="utf-8")  # cut short
    return None


def opted_out(monkeypatch: pytest.MonkeyPatch, tracking: Tracking, outcome: CompileOutcome) -> Settings | None:
    return Settings(state_dir=Path(tracking.tracking_uri.removeprefix("sqlite:///")).parent,
                    eval={"tracking_uri": tracking.tracking_uri}, compile={"serve_champion": False})  # type: ignore[arg-type]  # fmt: skip


Scenario = Callable[[pytest.MonkeyPatch, Tracking, CompileOutcome], Settings | None]


def serve(settings: Settings, tmp_path: Path) -> TestClient:
    """The app over services whose programs come from the real load path (fake retriever, scripted LM)."""

    def factory(s: Settings) -> Services:
        lm = ScriptedLM()
        programs, served = load_programs(s, FakeRetriever(), lm, versions=VERSIONS, latest=VERSIONS[-1])
        return Services(
            settings=s, programs=programs, program_versions=served, retrievers={"fake": FakeRetriever()},
            default_backend="fake", versions=VERSIONS, latest=VERSIONS[-1], sources=FakeSources(),
            spool_dir=tmp_path / "spool", logs_db=tmp_path / "logs.duckdb", lm=lm, readiness={"lm": "ok"},
        )  # fmt: skip

    return TestClient(create_app(settings, factory))


@pytest.fixture
def compiled(
    tmp_path: Path, tracking: Tracking, compile_settings: CompileSettings, monkeypatch: pytest.MonkeyPatch
) -> CompileOutcome:
    monkeypatch.setattr("index.ingest.pipeline.corpus_hash", lambda db: CORPUS)
    outcome = run(tmp_path, "c1", compile_settings, tracking)
    assert outcome.promoted and outcome.version == "1", outcome.decision.reason
    return outcome


def test_the_api_serves_the_champion(
    compiled: CompileOutcome, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="optimizers.serving"), serve(settings, tmp_path) as client:
        ready = client.get("/readyz").json()
        first = client.post("/v1/ask", json={"question": QUESTION}).json()
        again = client.post("/v1/ask", json={"question": QUESTION}).json()
    assert ready["program_versions"] == {"rag": "fda-rag/1", "multihop": UNCOMPILED}
    assert ready["program_version"] == "fda-rag/1"  # the default program's
    assert first["program_version"] == "fda-rag/1" and not first["cached"]
    assert [c["url"] for c in first["citations"]] == [CORS] and "allow_origins" in first["answer"]
    assert again["cached"] and again["program_version"] == "fda-rag/1"
    assert "fda-multihop has no champion" in caplog.text and "fda-rag" not in caplog.text


@pytest.mark.parametrize(
    ("scenario", "warning"),
    [
        (reingested, "compiled on corpus 'corpus-a', the ingested corpus is 'corpus-b'"),
        (corrupted, "serving the uncompiled rag program: the champion was not loaded"),
        (opted_out, None),
    ],
    ids=["manifest-mismatch", "corrupted-program-json", "serve-champion-off"],
)
def test_a_champion_that_cannot_serve_falls_back_to_uncompiled(
    scenario: Scenario,
    warning: str | None,
    compiled: CompileOutcome,
    settings: Settings,
    tracking: Tracking,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = scenario(monkeypatch, tracking, compiled) or settings
    with caplog.at_level(logging.INFO), serve(settings, tmp_path) as client:
        ready = client.get("/readyz").json()
        answer = client.post("/v1/ask", json={"question": QUESTION}).json()
    assert ready["program_versions"] == {"rag": UNCOMPILED, "multihop": UNCOMPILED}
    assert answer["program_version"] == UNCOMPILED
    assert [c["url"] for c in answer["citations"]] != [CORS]  # no demos: the scripted LM cites a wrong source
    served = [r.getMessage() for r in caplog.records if r.name == "optimizers.serving"]
    if warning is None:  # opted out: MLflow is not asked at all
        assert served == [] and "compile.serve_champion is off" in caplog.text
    else:
        assert any(warning in m for m in served), served


def test_the_trust_checks_load_once_for_every_program(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import programs.trust.checks as trust

    loaded: list[object] = []
    real = trust.load_checks
    monkeypatch.setattr(trust, "load_checks", lambda *a, **k: loaded.append(1) or real(*a, **k))
    programs, _ = load_programs(settings, FakeRetriever(), ScriptedLM(), versions=VERSIONS, latest=VERSIONS[-1])
    assert len(loaded) == 1  # the vocabulary and the scope model: read once at start, shared by both programs
    assert programs["rag"].checks is programs["multihop"].checks
