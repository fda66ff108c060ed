"""``python -m experiments.research [cross-encoder|rerank|rewrite|lm-rerank|cache|judge|all|confirm]``: the study of docs/research/ (``make research``).

Each part writes its per-question rows under eval/results/research/, a summary JSON beside them, and its
figures under docs/research/img/; it reads gold v2 train and dev-select only (dev-confirm and the sealed test
are read only by the ``confirm`` part, once, through the logged path of ``fda eval confirm``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "eval" / "results" / "research"
FIGURES = ROOT / "docs" / "research" / "img"


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _write_summary(name: str, summary: Any) -> None:
    """``eval/results/research/<name>-summary.json``: a part's tables, indented for diffs."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}-summary.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")


def _say(msg: str) -> None:
    sys.stderr.write(f"[research {time.strftime('%H:%M:%S')}] {msg}\n")
    sys.stderr.flush()


class _Rerank:
    """What the re-ranking part opens once: settings, the fused retriever with every signal, the encoder, and
    the cross-encoder when one was trained (``state/research/cross-encoder.pt``)."""

    def __init__(self) -> None:
        from fda.settings import get_settings
        from index.retrieval.factory import Opener
        from index.retrieval.fused import SIGNALS, FusedRetriever
        from index.retrieval.layout import paths_for
        from index.retrieval.passages import versions

        self.settings = s = get_settings()
        self.paths = paths_for(s.retrieval, s.state_dir, s.db_path)
        self.known, latest = versions(s.db_path)
        self.latest = latest or self.known[-1]
        every = s.retrieval.model_copy(update={"fused_weights": [1.0] * (len(SIGNALS) - 1) + [0.0]})
        fused = Opener(every, self.paths).get("fused")
        assert isinstance(fused, FusedRetriever)
        self.fused = fused
        self.checkpoint = s.state_dir / "research" / "cross-encoder.pt"
        self.ce: Any = None
        if self.checkpoint.is_file():
            from experiments.research.cross_encoder import CrossEncoder

            self.ce = CrossEncoder(self.paths.base_model, head=self.checkpoint)
        else:
            _say(f"rerank: no cross-encoder at {self.checkpoint}; `python -m experiments.research cross-encoder`")

    def rows(self, split: str, gold: list[Any]) -> list[Any]:
        from eval.retrieval_quality import targets
        from experiments.research import rerank

        items = targets(gold, self.known, self.latest)
        _say(f"rerank: pools of {len(items)} {split} rows")
        rows = rerank.collect(self.fused, self.fused.dense.encoder.encode, items, self.latest)  # type: ignore[attr-defined]
        if self.ce is not None:
            _say(f"rerank: cross-encoder over the top {rerank.CE_TOP} of {len(rows)} {split} rows")
            rerank.add_cross_encoder(rows, self.ce.score)
        return rows

    def candidates(self, train: list[Any]) -> list[Any]:
        from experiments.research import rerank

        _say("rerank: tuning on train")
        cands = [*rerank.baselines(), *rerank.tuned(train)]
        if self.ce is not None:
            cands.append(rerank.tune_cross_encoder(train))
            cands.append(rerank.Candidate("cross-encoder order (served top 20)", cross_encoder=100.0))
        return cands


def run_rerank() -> dict[str, Any]:
    from typing import cast

    from eval.gold import Split, load_gold
    from experiments.research import rerank

    opened = _Rerank()
    rows = {sp: opened.rows(sp, load_gold("v2", split=cast("Split", sp))) for sp in ("train", "dev-select")}
    cands = opened.candidates(rows["train"])
    summary: dict[str, Any] = {
        "candidates": {c.name: c.describe() for c in cands},
        "tables": {sp: rerank.table(rows[sp], cands) for sp in rows},
        "served misses": {sp: rerank.miss_kinds(rows[sp], rerank.SERVED) for sp in rows},
    }
    per_q = [q for sp in rows for q in rerank.question_rows(rows[sp], cands, sp)]
    _write_jsonl(RESULTS / "rerank.jsonl", per_q)
    _write_summary("rerank", summary)
    _figure_rerank(summary)
    return summary


def run_confirm(purpose: str, who: str | None = None) -> dict[str, Any]:
    """The study's retrieval candidates, every choice made on train and dev-select, scored ONCE on the sealed
    test split through the logged path of ``fda eval confirm`` (data/gold/v2/access/test-access.jsonl): the
    re-rankers (weights re-derived from train, deterministic), the rewriting strategies and the LM re-ranker (LM
    outputs cached)."""
    import getpass
    from typing import cast

    from eval.gold import Split, load_gold
    from eval.retrieval_quality import targets
    from eval.sealed import close_sealed, committed_state, open_sealed
    from experiments.research import rerank

    committed_state(ROOT, allow_dirty=False, why="a confirm must name the code it measures", hint="Commit first.")
    opened = _Rerank()  # the tree is checked first: the minutes of train scoring below are not wasted
    train = opened.rows("train", load_gold("v2", split=cast("Split", "train")))
    cands = opened.candidates(train)
    access = open_sealed(
        "v2",
        who=who or getpass.getuser(),
        purpose=purpose,
        command="python -m experiments.research confirm",
        repo=ROOT,
    )
    gold = load_gold("v2", split="test", access=access)
    test = opened.rows("test", gold)
    rerank_table = rerank.table(test, cands)
    _write_jsonl(RESULTS / "rerank-test.jsonl", rerank.question_rows(test, cands, "test"))
    scored = targets(gold, opened.known, opened.latest)
    rewrite_summary, rewrite_rows = _rewrite(scored)
    _write_jsonl(RESULTS / "rewrite-test.jsonl", rewrite_rows)
    lm_summary, lm_rows = _lm_rerank(scored)
    _write_jsonl(RESULTS / "lm-rerank-test.jsonl", lm_rows)
    summary = {
        "candidates": {c.name: c.describe() for c in cands},
        "rerank": rerank_table,
        "rewrite": rewrite_summary,
        "lm-rerank": lm_summary,
    }
    _write_summary("test", summary)
    headline = {
        **{f"rerank {r['method']}": r["page Hit@1"] for r in rerank_table if r["subset"] == "all"},
        **{f"rewrite {r['method']}": r["page Hit@1"] for r in rewrite_summary["table"] if r["subset"] == "all"},
        **{f"lm-rerank {r['method']}": r["page Hit@1"] for r in lm_summary["table"] if r["subset"] == "all"},
    }
    close_sealed(
        access, run_id="research-test", results_file="eval/results/research/test-summary.json", headline=headline
    )
    return summary


def _figure_rerank(summary: dict[str, Any]) -> None:
    _figure_methods(summary["tables"]["dev-select"], "rerank.png")


def _figure_methods(recs: list[dict[str, Any]], name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(r["method"] for r in recs))
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for ax, metric in zip(axes, ("page Hit@1", "section R@5"), strict=True):
        for i, subset in enumerate(("all", "user")):
            vals = [next(r for r in recs if r["method"] == n and r["subset"] == subset)[metric] for n in names]
            n = next(r for r in recs if r["subset"] == subset)["n"]
            ax.barh([y + 0.38 * i for y in range(len(names))], vals, height=0.36, label=f"{subset} ({n})")
        ax.set_title(f"{metric}, gold v2 dev-select")
        ax.set_xlim(0, 1)
    axes[0].set_yticks([y + 0.19 for y in range(len(names))], names)
    axes[0].invert_yaxis()
    axes[1].legend(loc="lower right")
    fig.tight_layout()
    FIGURES.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURES / name, dpi=110)
    plt.close(fig)


def run_cross_encoder(n_negatives: int = 3, epochs: int = 1) -> Path:
    """Training groups from the generated section questions (cached), then training (resumable)."""
    from tqdm import tqdm

    from experiments.research import cross_encoder as cx
    from fda.settings import get_settings
    from index.retrieval.factory import Opener
    from index.retrieval.fused import FusedRetriever
    from index.retrieval.layout import paths_for
    from index.retrieval.passages import versions

    s = get_settings()
    paths = paths_for(s.retrieval, s.state_dir, s.db_path)
    work = s.state_dir / "research"
    groups_file = work / "cross-encoder-groups.jsonl"
    if not groups_file.is_file():
        if paths.questions_file is None or not paths.questions_file.is_file():
            raise SystemExit(f"no generated section questions at {paths.questions_file}: they are committed")
        known, latest_or_none = versions(s.db_path)
        latest = latest_or_none or known[-1]
        fused = Opener(s.retrieval, paths).get("fused")
        assert isinstance(fused, FusedRetriever)
        chunks = fused.dense.scores_for_vector(fused.dense.encode_query("fastapi"), latest)[1]
        total = sum(len(json.loads(x).get("questions", [])) for x in paths.questions_file.read_text().splitlines() if x)
        with tqdm(total=total, desc="cross-encoder groups", unit="q") as bar:
            groups = cx.make_groups(
                paths.questions_file,
                chunks,
                lambda q: fused.search(q, k=30, version=latest),
                n_negatives=n_negatives,
                progress=bar.update,
            )
        cx.save_groups(groups_file, groups)
        _say(f"cross-encoder: {len(groups)} training groups -> {groups_file}")
    checkpoint = work / "cross-encoder.pt"
    if checkpoint.is_file():
        _say(f"cross-encoder: trained already ({checkpoint}; delete it to train again)")
        return checkpoint
    partial = work / "cross-encoder.partial.pt"  # resumable; renamed once every step is done
    cx.train(cx.load_groups(groups_file), paths.base_model, partial, epochs=epochs, say=_say)
    partial.replace(checkpoint)
    return checkpoint


def run_cache() -> list[dict[str, Any]]:
    from typing import cast

    from eval.gold import Split, load_gold
    from experiments.research import caching
    from fda.settings import get_settings
    from index.retrieval.dense import MiniLMEncoder
    from index.retrieval.layout import paths_for

    s = get_settings()
    paths = paths_for(s.retrieval, s.state_dir, s.db_path)
    if paths.questions_file is None or not paths.questions_file.is_file():
        raise SystemExit(f"no generated section questions at {paths.questions_file}: they are committed")
    gold = [r for sp in ("train", "dev-select") for r in load_gold("v2", split=cast("Split", sp))]
    logs = {
        "section questions": caching.section_log(paths.questions_file),
        "gold v2 train + dev-select": caching.gold_log(gold),
    }
    encoder = MiniLMEncoder(paths.base_model)
    _say(f"cache: replaying {', '.join(f'{k} ({len(v)})' for k, v in logs.items())}, {len(caching.SEEDS)} seeds")
    records = caching.study(logs, encoder.encode)
    _write_jsonl(RESULTS / "cache.jsonl", records)
    summary = caching.summarize(records)
    _write_summary("cache", summary)
    _figure_cache(summary)
    return summary


def _figure_cache(summary: list[dict[str, Any]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for log in dict.fromkeys(r["log"] for r in summary):
        sem = [r for r in summary if r["log"] == log and r["key"].startswith("semantic")]
        wrong = [r["wrong per question"] for r in sem]
        ax.plot([r["hit rate"] for r in sem], wrong, marker="o", label=log)
        for r, w in zip(sem, wrong, strict=True):
            ax.annotate(r["key"].split(">= ")[1], (r["hit rate"], w), fontsize=7)
        keyed = [r for r in summary if r["log"] == log and not r["key"].startswith("semantic")]
        ax.scatter([r["hit rate"] for r in keyed], [r["wrong per question"] for r in keyed], marker="x")
    ax.set_xlabel("hit rate (share of questions answered from the cache)")
    ax.set_ylabel("another page's answer, per question served")
    ax.set_title("semantic cache thresholds (o) and exact/normalized keys (x)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    FIGURES.mkdir(parents=True, exist_ok=True)
    fig.savefig(FIGURES / "cache.png", dpi=110)
    plt.close(fig)


def run_judge() -> dict[str, Any]:
    import dataclasses

    from eval.agreement import agreement_table, check_labels, committed_answers, load_label_files
    from experiments.research import judge

    labels = load_label_files()
    answers = committed_answers(sorted({lab.run_id for lab in labels}))
    check_labels(labels, answers)
    rows = judge.labelled_rows(labels, answers)
    _say(f"judge: {len(labels)} labels, {len(rows)} answers with a judge verdict of its own")
    summary = {
        "answers": len(rows),
        "agreement": [dataclasses.asdict(a) for a in agreement_table(labels, answers)],
        "length": judge.length_bias(rows),
        "length_spearman": judge.length_correlation(rows),
        "position": judge.position_bias(rows),
    }
    _write_jsonl(RESULTS / "judge.jsonl", [{k: v for k, v in r.items()} for r in rows])
    _write_summary("judge", summary)
    return summary


def _dev_select_targets() -> list[Any]:
    """Gold v2 dev-select's retrieval targets, each searched in the docs version its gold lives in."""
    from typing import cast

    from eval.gold import Split, load_gold
    from eval.retrieval_quality import targets
    from fda.settings import get_settings
    from index.retrieval.passages import versions

    s = get_settings()
    known, latest = versions(s.db_path)
    return targets(load_gold("v2", split=cast("Split", "dev-select")), known, latest or known[-1])


def _rewrite(rows: list[Any], model: str | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Every rewriting strategy on ``rows`` (retrieval targets): the LM outputs (cached), the paired table
    against the question alone, and per-question rows."""
    import dspy
    from tqdm import tqdm

    from experiments.research import rewrite
    from experiments.research.tables import scored_methods
    from fda.lm.factory import model_for
    from fda.settings import get_settings
    from index.retrieval.factory import open_retriever
    from index.retrieval.layout import paths_for
    from ops.bench.lm_levers import lm_for
    from ops.bench.retrieval_rewrite import cache_file, rewrite_all
    from programs.rewriter import QueryRewriter
    from signatures.hyde import HypotheticalPassage

    s = get_settings()
    name = model or model_for(s.lm)
    cache_dir = s.state_dir / "cache" / "rewrites"
    queries: dict[str, dict[str, list[str]]] = {}
    failed = 0
    with lm_for(s, name):
        router, hyde = QueryRewriter(), dspy.Predict(HypotheticalPassage)
        asks = {
            "rewrites": (cache_file(cache_dir, name), lambda q: router(question=q).queries),
            "hyde": (rewrite.hyde_cache_file(cache_dir, name), lambda q: [hyde(question=q).passage]),
        }
        for source, (cache, ask) in asks.items():
            with tqdm(total=len(rows), desc=f"{source} ({name})", unit="q") as bar:
                queries[source], bad = rewrite_all(rows, rewrite.non_blank(ask), cache, bar.update)
            failed += bad
    if failed:
        _say(f"rewrite: {failed} LM call(s) failed: those questions were searched alone (rerun to ask again)")
    retriever = open_retriever(None, s, paths_for(s.retrieval, s.state_dir, s.db_path))
    ranked = rewrite.search_all(retriever, queries, rows)
    table, per_q = scored_methods(
        rows,
        ranked,
        "question",
        lambda m, t: {"queries": queries[rewrite.STUDY[m][0]].get(t.question.question, [])[1:]},
    )
    return {"model": name, "failed": failed, "table": table}, per_q


def run_rewrite() -> dict[str, Any]:
    summary, per_q = _rewrite(_dev_select_targets())
    _write_jsonl(RESULTS / "rewrite.jsonl", per_q)
    _write_summary("rewrite", summary)
    _figure_methods(summary["table"], "rewrite.png")
    return summary


def _lm_rerank(rows: list[Any], model: str | None = None, top: int = 8) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The served retriever as it ranks and after the LM re-orders its top ``top`` sections (programs/reranker.py,
    the served LM; picks cached), paired per question."""
    from tqdm import tqdm

    from eval.retrieval_quality import DEPTH
    from experiments.research.tables import scored_methods
    from fda.lm.factory import model_for
    from fda.settings import get_settings
    from index.retrieval.factory import open_retriever
    from index.retrieval.layout import paths_for
    from ops.bench.lm_levers import lm_for
    from ops.bench.retrieval_rerank import Reranked, cache_file
    from programs.reranker import LMReranker

    s = get_settings()
    name = model or model_for(s.lm)
    retriever = open_retriever(None, s, paths_for(s.retrieval, s.state_dir, s.db_path))
    reranker = LMReranker(top=top)
    with lm_for(s, name), tqdm(total=len(rows), desc=f"lm rerank ({name})", unit="q") as bar:
        lm = Reranked(
            retriever,
            reranker.ask,
            cache_file(s.state_dir / "cache" / "rerank", name, top),
            top=top,
            progress=bar.update,
        )
        ranked = {
            "fused (served)": [retriever.search(t.question.question, k=DEPTH, version=t.version) for t in rows],
            f"fused + LM re-rank (top {top})": [
                lm.search(t.question.question, k=DEPTH, version=t.version) for t in rows
            ],
        }
    if lm.failed:
        _say(f"lm-rerank: {lm.failed} LM call(s) failed: those questions kept the retriever's order")
    table, per_q = scored_methods(rows, ranked, "fused (served)")
    return {"model": name, "failed": lm.failed, "table": table}, per_q


def run_lm_rerank() -> dict[str, Any]:
    summary, per_q = _lm_rerank(_dev_select_targets())
    _write_jsonl(RESULTS / "lm-rerank.jsonl", per_q)
    _write_summary("lm-rerank", summary)
    return summary


PARTS: dict[str, Callable[[], object]] = {
    "cross-encoder": run_cross_encoder,
    "rerank": run_rerank,
    "cache": run_cache,
    "judge": run_judge,
    "rewrite": run_rewrite,
    "lm-rerank": run_lm_rerank,
}


def main(argv: list[str] | None = None) -> int:
    import fda  # noqa: F401  (offline defaults)

    parser = argparse.ArgumentParser(prog="python -m experiments.research", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "part",
        nargs="?",
        default="all",
        choices=[*PARTS, "all", "confirm"],
        help="which part (default: all; confirm reads the sealed test once and is never part of all)",
    )
    parser.add_argument("--purpose", default="", help="confirm: what this read of the test split is for (logged)")
    parser.add_argument("--who", default=None, help="confirm: who runs it (logged; default: the OS user)")
    args = parser.parse_args(argv)
    from fda.errors import FDAError

    if args.part == "confirm" and not args.purpose.strip():
        parser.error('confirm reads the sealed test split once and logs why: give --purpose "..."')
    try:
        if args.part == "confirm":
            run_confirm(args.purpose, args.who)
            return 0
        for name, fn in PARTS.items():
            if args.part in (name, "all"):
                start = time.perf_counter()
                fn()
                _say(f"{name}: done in {time.perf_counter() - start:.0f} s")
    except FDAError as err:  # a missing index, a dead LM server, a dirty tree for confirm: say what to do
        hint = getattr(err, "hint", None)
        sys.stderr.write(f"error: {err}\n" + (f"  -> {hint}\n" if hint else ""))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
