"""Training pairs and the projection trainer on toy tensors (no model, no corpus)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import torch

from fda.errors import ConfigError
from index.retrieval.passages import Chunk, index_text
from index.training.pairs import Pair, make_pairs, prose_sentences
from index.training.run import train_retriever
from index.training.token_states import States
from index.training.train import (
    PackedDocs,
    TrainConfig,
    packed_maxsim,
    pca_init,
    project,
    train_projection,
)


def _chunk(i: int, section: str, heading: tuple[str, ...], text: str, kind: str = "doc") -> Chunk:
    return Chunk(f"c{i}", section, f"https://x/{section}", heading, text, "1.0", kind)


CHUNKS = [
    _chunk(
        0,
        "s0",
        ("CORS", "Use CORSMiddleware"),
        "You can configure it in your app using the CORSMiddleware class.\n\n```python\napp.add_middleware(X)\n```",
    ),
    _chunk(
        1, "s0", ("CORS", "Use CORSMiddleware"), "More text about origins that is long enough to be a sentence here."
    ),
    _chunk(2, "s1", ("Testing",), "Short."),
    _chunk(
        3, "r1", ("Release Notes", "0.1.0"), "First release of the whole framework, with many features.", kind="release"
    ),
]


def test_prose_sentences_skip_code_and_short_lines() -> None:
    text = (
        "Intro line that has enough words to count.\n\n```python\nprint('this is code, not prose at all')\n```\nTiny."
    )
    spans = prose_sentences(text)
    assert [text[a:b] for a, b in spans] == ["Intro line that has enough words to count."]


def test_make_pairs_uses_headings_and_sentences_never_release_notes() -> None:
    pairs = make_pairs(
        CHUNKS, lambda q, row: [r for r in (2, 3, 0) if CHUNKS[r].section_id != CHUNKS[row].section_id], seed=1
    )
    kinds = {p.kind for p in pairs}
    assert kinds == {"heading", "question", "title", "sentence"}
    assert all(CHUNKS[p.positive].kind == "doc" for p in pairs)
    heading = next(p for p in pairs if p.kind == "heading" and p.positive == 0)
    assert heading.query == "Use CORSMiddleware" and heading.negatives == (2, 3)
    for p in pairs:
        if p.kind == "sentence":
            assert p.hide is not None
            a, b = p.hide
            assert index_text(CHUNKS[p.positive])[a:b] == p.query
    assert make_pairs(CHUNKS, lambda q, r: [], seed=1) == make_pairs(CHUNKS, lambda q, r: [], seed=1)


def test_generated_questions_become_pairs_with_their_sections_first_chunk() -> None:
    generated = {"https://x/s0": ["How do I allow my frontend's origin?"], "https://x/r1": ["Never used?"]}
    pairs = make_pairs(CHUNKS, lambda q, r: [2], seed=1, generated=generated)
    got = [p for p in pairs if p.kind == "generated"]
    assert [(p.query, p.positive, p.negatives) for p in got] == [("How do I allow my frontend's origin?", 0, (2,))]


def _states(seqs: list[torch.Tensor]) -> States:
    return States(
        [torch.zeros(len(s), dtype=torch.long) for s in seqs],
        [s.half() for s in seqs],
        [torch.ones(len(s), dtype=torch.bool) for s in seqs],
    )


# The padded formulation: the plain reference the packed one (index/training/train.py) must match.
def pad(tensors: Sequence[Any], masks: Sequence[Any]) -> tuple[Any, Any]:
    n = max(t.shape[0] for t in tensors)
    x = torch.zeros(len(tensors), n, tensors[0].shape[-1])
    m = torch.zeros(len(tensors), n, dtype=torch.bool)
    for i, (t, k) in enumerate(zip(tensors, masks, strict=True)):
        x[i, : t.shape[0]] = t.float()
        m[i, : t.shape[0]] = k
    return x, m


def maxsim(q: Any, d: Any, d_mask: Any) -> Any:
    """Scores [nq, nd]: sum over query tokens of the best doc token. ``d_mask`` [nd, L] or [nq, nd, L]."""
    sim = torch.einsum("qid,njd->qnij", q, d)
    mask = d_mask.unsqueeze(-2) if d_mask.dim() == 3 else d_mask[None, :, None, :]
    return sim.masked_fill(~mask, -1e4).max(-1).values.sum(-1)


def test_packed_maxsim_matches_padded_maxsim() -> None:
    g = torch.Generator().manual_seed(0)
    docs = _states([torch.randn(n, 8, generator=g) for n in (3, 5, 2)])
    docs.keep[1][0] = False  # a punctuation token: excluded from both
    q = torch.nn.functional.normalize(torch.randn(2, 4, 8, generator=g), dim=-1)
    w = torch.eye(8)
    d, m = pad(docs.hidden, docs.keep)
    expected = maxsim(q, project(d, w), m)
    packed = PackedDocs(docs)
    toks, seg = packed.gather([0, 1, 2])
    got = packed_maxsim(q, project(toks, w), seg, 3)
    assert torch.allclose(got, expected, atol=1e-5)
    hidden = torch.zeros(2, toks.shape[0], dtype=torch.bool)
    hidden[0, :3] = True  # query 0 may not match doc 0 at all
    assert packed_maxsim(q, project(toks, w), seg, 3, hidden)[0, 0] < -1e3


def test_pca_init_is_orthonormal_and_keeps_the_main_direction() -> None:
    g = torch.Generator().manual_seed(0)
    main = torch.zeros(16)
    main[3] = 1.0
    rows = torch.randn(400, 16, generator=g) * 0.05 + main * torch.randn(400, 1, generator=g) * 3
    w = pca_init(_states([rows]), dim=4)
    assert w.shape == (4, 16)
    assert torch.allclose(w @ w.T, torch.eye(4), atol=1e-4)
    assert abs(float(w[0, 3])) > 0.99


def test_training_lowers_the_loss_on_a_learnable_toy_task() -> None:
    g = torch.Generator().manual_seed(0)
    # 12 docs; each query is its doc's tokens plus noise, and the useful signal lives in 4 of 32 dims
    docs_t = [torch.randn(6, 32, generator=g) for _ in range(12)]
    queries_t = [d[:4] + 0.3 * torch.randn(4, 32, generator=g) for d in docs_t]
    pairs = [Pair(f"q{i}", i, ((i + 1) % 12,), "heading", extra={"section": f"s{i}"}) for i in range(12)]
    cfg = TrainConfig(steps=60, batch_size=4, lr=5e-2, warmup=5, n_negatives=1, dim=4)
    init = torch.randn(4, 32, generator=g) * 0.1
    result = train_projection(pairs, _states(queries_t), _states(docs_t), [None] * 12, cfg, init)
    first, last = sum(result.losses[:10]) / 10, sum(result.losses[-10:]) / 10
    assert last < first * 0.7
    assert result.weight.shape == (4, 32)
    again = train_projection(pairs, _states(queries_t), _states(docs_t), [None] * 12, cfg, init)
    assert torch.equal(again.weight, result.weight)  # fixed seed: same weights


def test_training_with_generated_questions_stops_first_when_the_file_is_missing(tmp_path: Path) -> None:
    """The default recipe (v2) needs `fda gen-questions`' file; without it the error says what to run,
    before any corpus is read or model loaded."""
    with pytest.raises(ConfigError) as err:
        train_retriever(
            tmp_path / "no.duckdb",
            tmp_path / "no-model",
            tmp_path / "out",
            tmp_path / "cache",
            TrainConfig(steps=1),
            questions_file=tmp_path / "missing" / "questions.jsonl",
        )
    assert "gen-questions" in (err.value.hint or "")
    assert "--no-generated" in (err.value.hint or "")
    assert not (tmp_path / "out").exists()


def test_no_generated_without_out_would_overwrite_the_committed_v2_and_is_refused() -> None:
    from typer.testing import CliRunner

    from fda.cli.app import app

    result = CliRunner().invoke(app, ["train-retriever", "--no-generated"])
    assert result.exit_code != 0
    assert "--out" in result.output and "overwrite" in result.output
