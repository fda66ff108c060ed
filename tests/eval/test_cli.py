"""``fda eval`` end to end with an oracle retriever in place of a real backend (no index, no corpus)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import eval.session as eval_session
from eval.gold import load_gold
from fda.cli.app import app
from tests.eval.conftest import ScriptedRetriever

runner = CliRunner()


@pytest.fixture
def oracle() -> ScriptedRetriever:
    """Ranks each dev question's first gold section first."""
    return ScriptedRetriever({g.question: g.gold_sections[:1] for g in load_gold("v1", "dev")})


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, oracle: ScriptedRetriever) -> Path:
    import eval.run
    import index.ingest.pipeline
    import index.ingest.store

    monkeypatch.setenv("FDA_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("FDA_EVAL__TRACK", "false")
    monkeypatch.setenv("FDA_EVAL__BOOTSTRAP_SAMPLES", "100")
    monkeypatch.setattr(eval_session, "REPORTS_DIR", tmp_path / "reports")
    monkeypatch.setattr(eval_session, "BASELINES_DIR", tmp_path / "baselines")
    monkeypatch.setattr(eval_session, "open_retriever", lambda backend, s: oracle)
    monkeypatch.setattr(eval.run, "ensure_gold_in_corpus", lambda rows, db: None)
    monkeypatch.setattr(index.ingest.pipeline, "corpus_hash", lambda db: "c0ffee")
    monkeypatch.setattr(index.ingest.store, "ingested_versions", lambda db: ["0.141.1"])
    return tmp_path


def _runs(root: Path) -> list[Path]:
    return sorted(p for p in (root / "reports").iterdir() if p.is_dir())


def test_eval_retrieval_writes_a_report(cli_env: Path) -> None:
    result = runner.invoke(
        app, ["eval", "--program", "retrieval", "--backend", "fake", "--split", "dev", "--limit", "6"]
    )
    assert result.exit_code == 0, result.output
    (run_dir,) = _runs(cli_env)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["n_questions"] == 6
    assert summary["meta"]["corpus_hash"] == "c0ffee"
    assert "Recall@5 (section)" in result.output
    assert (cli_env / "state" / "eval.duckdb").is_file()


def test_unknown_program_fails_clearly(cli_env: Path) -> None:
    result = runner.invoke(app, ["eval", "--program", "wizard", "--backend", "fake", "--limit", "2"])
    assert result.exit_code == 2
    assert "unknown program 'wizard'" in result.output
    assert "retrieval, rag, multihop, agent" in result.output


def test_answer_program_with_a_dead_lm_server_fails_clearly(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The answer LM comes from fda/lm/factory.py; when its server cannot start, the run says so and exits 2."""
    import fda.lm.factory
    from fda.errors import LMUnavailableError

    def dead(*args: object, **kw: object) -> None:
        raise LMUnavailableError("the local model server did not start", hint="Check state/logs/.")

    monkeypatch.setattr(fda.lm.factory, "make_lm", dead)
    result = runner.invoke(app, ["eval", "--program", "rag", "--backend", "fake", "--limit", "2"])
    assert result.exit_code == 2
    assert "the local model server did not start" in result.output
    assert not any((cli_env / "reports").glob("*/results.jsonl"))  # no question was run


def test_answer_program_with_a_fake_lm(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The LM comes from the runtime's factory; here a stand-in, with DummyLM answering both LM steps."""
    from contextlib import contextmanager

    from dspy.utils import DummyLM

    @contextmanager
    def session(s: object, *, answers: bool, judge: bool):  # type: ignore[no-untyped-def]
        yield DummyLM([{"search_queries": ["x"], "decision": "off_topic"}] * 2), None

    monkeypatch.setattr(eval_session, "lm_session", session)
    monkeypatch.setenv("FDA_LM__MODEL", "local:qwen2.5-coder-0.5b")
    result = runner.invoke(app, ["eval", "--program", "rag", "--backend", "fake", "--limit", "2", "--no-baseline"])
    assert result.exit_code == 0, result.output
    assert "refusal accuracy" in result.output
    (meta,) = [json.loads(p.read_text()) for p in (cli_env / "reports").glob("*/meta.json")]
    assert meta["lm_model"] == "local:qwen2.5-coder-0.5b"  # which model answered is part of the run's record


def test_resume_unknown_run(cli_env: Path) -> None:
    result = runner.invoke(app, ["eval", "--resume", "nope"])
    assert result.exit_code == 2 and "no run at" in result.output


def test_baseline_and_gate(cli_env: Path, oracle: ScriptedRetriever) -> None:
    missing = runner.invoke(app, ["eval", "gate", "--backend", "fake"])
    assert missing.exit_code == 2 and "no baseline" in missing.output

    update = runner.invoke(app, ["eval", "baseline", "--update", "--backend", "fake"])
    assert update.exit_code == 0, update.output
    path = cli_env / "baselines" / "retrieval-fake-dev.json"
    assert json.loads(path.read_text())["metrics"]["mrr_at_10_page"] == 1.0

    same = runner.invoke(app, ["eval", "gate", "--backend", "fake"])
    assert same.exit_code == 0, same.output
    assert "PASS" in same.output

    oracle.script = {q: [] for q in oracle.script}  # retrieval broke: nothing found
    broken = runner.invoke(app, ["eval", "gate", "--backend", "fake"])
    assert broken.exit_code == 1
    assert "FAIL" in broken.output


def test_label_import_and_report_rebuild(cli_env: Path) -> None:
    assert runner.invoke(app, ["eval", "--backend", "fake", "--limit", "2"]).exit_code == 0
    (run_dir,) = _runs(cli_env)
    qid = json.loads((run_dir / "results.jsonl").read_text().splitlines()[0])["question_id"]
    labels = cli_env / "labels.csv"
    labels.write_text(
        f"run_id,question_id,answer_label,citations_ok,note,labeller\n{run_dir.name},{qid},correct,yes,,ann\n"
    )
    result = runner.invoke(app, ["eval", "label", str(labels)])
    assert result.exit_code == 0, result.output
    assert "imported 1 labels" in result.output
    bad = cli_env / "bad.csv"
    bad.write_text(
        f"run_id,question_id,answer_label,citations_ok,note,labeller\n{run_dir.name},nope,correct,yes,,ann\n"
    )
    result = runner.invoke(app, ["eval", "label", str(bad)])
    assert result.exit_code == 2 and "has no answer for nope" in result.output
    assert runner.invoke(app, ["eval", "report", run_dir.name]).exit_code == 0


def test_confirm_logs_the_read_before_and_the_run_after(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import eval.results_export
    import eval.sealed

    log = tmp_path / "access" / "test-access.jsonl"
    monkeypatch.setattr(eval.sealed, "access_log", lambda version, root=None: log)
    monkeypatch.setattr(eval.results_export, "RESULTS_DIR", tmp_path / "results")
    refused = runner.invoke(app, ["eval", "--program", "retrieval", "--gold", "v2", "--split", "test"])
    assert refused.exit_code == 2 and "sealed" in refused.output and not log.exists()
    args = ["eval", "confirm", "--program", "retrieval", "--backend", "bm25", "--purpose", "unit test", "--who", "ci"]
    result = runner.invoke(app, [*args, "--allow-dirty", "--no-judge"])
    assert result.exit_code == 0, result.output
    opened, finished = (json.loads(x) for x in log.read_text().splitlines())
    assert (opened["event"], opened["who"], opened["purpose"], opened["split"]) == ("opened", "ci", "unit test", "test")
    assert finished["event"] == "finished" and finished["entry_id"] == opened["entry_id"]
    exported = Path(finished["results_file"])
    assert exported.parent == tmp_path / "results" and exported.is_file()
    assert len(exported.read_text().splitlines()) == 135  # the whole sealed split, once


def test_seeds_pools_runs_of_one_configuration_clustered_by_question(cli_env: Path) -> None:
    from eval.results import QuestionResult

    for n, scores in enumerate(([1.0, 0.0], [1.0, 1.0], [0.0, 0.0]), start=1):
        run = cli_env / "reports" / f"run{n}"
        run.mkdir(parents=True)
        meta = {
            "program": "rag",
            "backend": "fused",
            "split": "dev-select",
            "gold_hash": "h",
            "limit": 2,
            "seed": 0,
            "lm_seed": n,
        }
        (run / "meta.json").write_text(json.dumps(meta))
        rows = [
            QuestionResult(
                question_id=f"q{i}", type="howto", category="routing", split="dev-select", metrics={"answer_score": v}
            )
            for i, v in enumerate(scores)
        ]
        (run / "results.jsonl").write_text("".join(r.model_dump_json() + "\n" for r in rows))
    result = runner.invoke(app, ["eval", "seeds", "run1", "run2", "run3", "-m", "answer_score"])
    assert result.exit_code == 0, result.output
    assert "0.500" in result.output and "1.000" in result.output and "n 6" in result.output
    (cli_env / "reports" / "run3" / "meta.json").write_text(json.dumps({**meta, "program": "multihop"}))
    mixed = runner.invoke(app, ["eval", "seeds", "run1", "run3"])
    assert mixed.exit_code == 2 and "more than their LM seed" in mixed.output


def test_redteam_held_out_parts_need_a_purpose_and_unknown_parts_are_named(tmp_path: Path) -> None:
    from eval.redteam import ACCESS_LOG

    before = ACCESS_LOG.read_text() if ACCESS_LOG.is_file() else None
    res = runner.invoke(app, ["eval", "--suite", "redteam", "--program", "rag", "--split", "heldout"])
    assert res.exit_code != 0 and "what this read" in res.output
    res = runner.invoke(app, ["eval", "--suite", "redteam", "--program", "rag", "--split", "dev-confirm"])
    assert res.exit_code != 0 and "no part 'dev-confirm'" in res.output
    assert (ACCESS_LOG.read_text() if ACCESS_LOG.is_file() else None) == before  # nothing was logged


def test_seeds_pools_committed_runs_on_a_fresh_clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No report folders (a fresh clone): the committed per-question rows give the pooled interval that
    docs/evaluation.md quotes, whatever the order of the rows."""
    monkeypatch.setattr(eval_session, "REPORTS_DIR", tmp_path)
    runs = [f"20261205-{t}-multihop-fused-dev-select" for t in ("114217", "122343", "141715")]
    res = runner.invoke(app, ["eval", "seeds", *runs])
    assert res.exit_code == 0, res.output
    line = next(x for x in res.output.splitlines() if "answer_score" in x)
    assert "0.492" in line and "0.451" in line and "0.477" in line and "0.474 (0.401 – 0.555), n 324" in line
