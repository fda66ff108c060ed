"""No secret in any log, trace, artefact or MLflow run (issue #20): an LM key and the service's API keys are
configured, a compile runs with autolog, the service answers keyed requests, then every file under the
state folder (MLflow's store and artefacts, the query log, the spool, the compile folder) and every log
record is scanned for them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from eval.run import Tracking
from fda.settings import CompileSettings, Settings
from optimizers.compile import CompileSpec, compile_program
from optimizers.shared import shared
from programs.factory import build_answer_program
from tests.api.conftest import make_services
from tests.optimizers.conftest import DEV, TRAIN, ScriptedLM
from tests.programs.conftest import FakeRetriever

LM_KEY = "sk-canary-LMKEY-7f3a9c2e1b"
API_KEY = "apikey-canary-5d8e2f4a6c0b"
# the Azure secrets (docs/azure.md): configured but unused here (no Search endpoint, DuckDB log store), never written
SEARCH_KEY = "search-canary-9b1c7e3d5a"
DSN = "postgresql://fda:pg-canary-4e6a8c0f2b@db.internal:5432/fda"


def test_no_secret_reaches_logs_stores_or_mlflow(
    tmp_path: Path, tracking: Tracking, compile_settings: CompileSettings, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        state_dir=tmp_path,
        lm={"api_key": LM_KEY},
        api={"api_keys": [API_KEY], "request_timeout_s": 5, "log_flush_s": 0.05, "log_store_dsn": DSN},
        azure={"search": {"api_key": SEARCH_KEY}},
        eval={"tracking_uri": tracking.tracking_uri, "artifact_location": tracking.artifact_location},
        logging={"json_logs": True},
    )  # type: ignore[arg-type]
    student = ScriptedLM(easy={g.question for g in TRAIN})
    student.kwargs["api_key"] = LM_KEY  # what a hosted LM carries: it must not reach autolog or the manifest
    retriever = FakeRetriever()
    with caplog.at_level(logging.DEBUG):
        compile_program(
            CompileSpec(program="rag", optimizer="bootstrap", gold_version="fixture", gold_hash="g", corpus_hash="c",
                        retriever=retriever.name, lm="openai/gpt-4o-mini", config=compile_settings),
            train=TRAIN, dev=DEV,
            build=lambda lm: build_answer_program("rag", shared(retriever), lm=lm),
            student_lm=student, teacher_lm=None, tracking=tracking, work_dir=tmp_path / "compile",
        )  # fmt: skip
        app = create_app(settings, lambda s: make_services(s, tmp_path))
        with TestClient(app) as client:
            assert client.post("/v1/ask", json={"question": "CORS?"}, headers={"x-api-key": API_KEY}).status_code == 200
            assert client.post("/v1/ask", json={"question": "CORS?"}).status_code == 401
            assert API_KEY not in client.get("/readyz").text
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "mlflow.db" for p in files) and any("mlartifacts" in p.parts for p in files)
    assert any(p.name == "logs.duckdb" for p in files)
    for secret in (LM_KEY, API_KEY, SEARCH_KEY, "pg-canary-4e6a8c0f2b"):
        leaks = [str(p.relative_to(tmp_path)) for p in files if secret.encode() in p.read_bytes()]
        assert leaks == [], f"{secret[:14]}... found in {leaks}"
        assert secret not in caplog.text
