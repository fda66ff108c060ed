"""notebooks/: each runs headless top to bottom on the real corpus (a temporary store), and none is committed
with outputs (git diffs stay readable; a notebook's numbers come from running it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.index.conftest import tiny_dumps  # noqa: F401  (fixture)
from tests.index.retrieval.test_retrievers import tiny_store  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted([*(ROOT / "notebooks").glob("*.ipynb"), *(ROOT / "docs" / "internals").glob("*.ipynb")])


def _run(name: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch, folder: str = "notebooks") -> list[str]:
    """Execute the notebook (in its own folder, as Jupyter would); every cell's text outputs, in order."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    for key, value in env.items():
        monkeypatch.setenv(key, value)  # the kernel inherits this process's environment
    nb = nbformat.read(ROOT / folder / name, as_version=4)
    path = ROOT if folder == "notebooks" else ROOT / folder
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path)}}).execute()
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts.append(out.get("text", "") + str(out.get("data", {}).get("text/plain", "")))
    return texts


def test_notebooks_are_committed_without_outputs() -> None:
    import json

    assert NOTEBOOKS, "notebooks/ holds no notebook"
    for path in NOTEBOOKS:
        cells = json.loads(path.read_text())["cells"]
        assert all(not c.get("outputs") and not c.get("execution_count") for c in cells if c["cell_type"] == "code"), (
            path
        )


@pytest.mark.corpus
def test_evaluate_notebook_runs(
    real_store: tuple[Path, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = real_store
    texts = _run("evaluate.ipynb", {"FDA_STATE_DIR": str(db.parent), "FDA_NB_REPORTS": str(tmp_path)}, monkeypatch)
    joined = "\n".join(texts)
    assert "committed runs" in joined
    assert "answer_score" in joined and "over_refusal" in joined  # the paired table
    assert "rag, 1.5B" in joined and "multihop, 1.5B" in joined  # the pooled seeds
    assert "12 questions" in joined and "recall_at_5_section" in joined  # the harness on a seeded subset
    assert list(tmp_path.glob("*/summary.json"))  # its report went where it was told, not into eval/reports


@pytest.mark.corpus
def test_retrieval_notebook_runs_on_bm25(
    real_store: tuple[Path, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BM25 only here (seconds); the slow tier runs it with the neural backends."""
    db, _ = real_store
    texts = _run("retrieval.ipynb", {"FDA_STATE_DIR": str(db.parent), "FDA_NB_BACKENDS": "bm25"}, monkeypatch)
    joined = "\n".join(texts)
    assert "backends: bm25" in joined and "mean reciprocal rank: {'bm25'" in joined


@pytest.mark.slow
def test_retrieval_notebook_runs_with_the_neural_backends(
    tiny_store: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real MiniLM encoder on a tiny corpus (small data: the dense index of the whole corpus takes minutes)."""
    env = {"FDA_STATE_DIR": str(tiny_store.parent), "FDA_NB_BACKENDS": "bm25,dense,hybrid"}
    joined = "\n".join(_run("retrieval.ipynb", env, monkeypatch))
    assert "backends: bm25, dense, hybrid" in joined and "'hybrid'" in joined


@pytest.mark.slow
def test_explore_notebook_asks_the_served_program(
    real_store: tuple[Path, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real 0.5B over BM25 on the real corpus: one answer, its passages, the prompt and the trace."""
    from eval.session import open_or_build
    from fda.settings import Settings, project_root

    db, _ = real_store
    models = project_root() / "state" / "models"
    assert any(models.glob("*.gguf")), f"no model files in {models}: run `make models`"
    if not (db.parent / "models").exists():
        (db.parent / "models").symlink_to(models)
    env = {
        "FDA_STATE_DIR": str(db.parent),
        "FDA_RETRIEVAL__BACKEND": "bm25",
        "FDA_RETRIEVAL__BUILD": '["bm25"]',
        "FDA_LM__MODEL": "local:qwen2.5-coder-0.5b",
        "FDA_CODE__EXECUTE": "false",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    open_or_build("bm25", Settings(), build=True)
    joined = "\n".join(_run("explore.ipynb", env, monkeypatch))
    assert "program rag" in joined and "local:qwen2.5-coder-0.5b" in joined
    assert "tiangolo.com/tutorial/cors" in joined  # a CORS passage was shown
    assert "guard" in joined and "retrieve" in joined and "answer" in joined  # the trace's stages


@pytest.mark.corpus
def test_the_tiny_transformer_trains_samples_and_counts_made_up_names(
    shared_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/internals/: 100 training steps (the notebook's default is 1500) on the real docs text."""
    env = {"FDA_NB_STEPS": "100", "FDA_CORPUS_DIR": str(shared_corpus)}
    joined = "\n".join(_run("tiny_transformer.ipynb", env, monkeypatch, folder="docs/internals"))
    assert "characters of docs" in joined and "parameters" in joined
    assert "100 steps in" in joined and "nats/char" in joined
    assert "--- temperature 1.5" in joined and "API names are not in the docs" in joined
    assert "embedded 0.5B" in joined or "run `make models` to compare" in joined
