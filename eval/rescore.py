"""Rescore a finished run against the gold set as it is now (after relevance pooling, say), without calling
the program or the judge again.

    fda eval rescore RUN_ID

Every metric is recomputed from the stored output and judge verdicts. The stored passages are cut to
snippets, so lexical faithfulness reads the full chunk texts from the corpus store when its hash is the
run's (``texts``); otherwise the run's value is kept. A row
whose facts changed since the run loses its fact verdicts (they no longer line up) rather than being
scored against the wrong facts. Type, category and group follow the gold too (a reviewed row may have moved
from unanswerable to how-to). The meta records the gold hash the scores now refer to.
"""

from __future__ import annotations

from pathlib import Path

from eval.gold import gold_hash, load_all_rows
from eval.results import QuestionResult, load_results
from eval.scoring import score_question
from fda.errors import EvalError

KEPT_FROM_RUN = ("faithfulness_lexical",)


def rescore_results(
    results: dict[str, QuestionResult], gold_version: str, answers: bool, texts: dict[str, str] | None = None
) -> list[QuestionResult]:
    rows = {r.id: r for r in load_all_rows(gold_version)}
    out = []
    for qid, res in results.items():
        gold = rows.get(qid)
        if gold is None:
            raise EvalError(f"question {qid} of the run is no longer in gold {gold_version}")
        judge = res.judge
        if judge is not None and judge.facts is not None and len(judge.facts) != len(gold.facts):
            judge = judge.model_copy(update={"facts": None})
        output = res.output
        if texts is not None:
            full = [p.model_copy(update={"text": texts.get(p.chunk_id, p.text)}) for p in output.passages]
            output = output.model_copy(update={"passages": full})
        metrics = score_question(
            gold, output, answers=answers, latency_s=res.latency_s, judge=judge, failed=res.error is not None
        )
        if texts is None:
            metrics.update({k: res.metrics.get(k) for k in KEPT_FROM_RUN if k in res.metrics})
        labels = {"type": gold.type.value, "category": gold.category.value, "group": gold.dedupe_group}
        out.append(res.model_copy(update={"metrics": metrics, "judge": judge, **labels}))
    return out


def chunk_texts(db_path: Path, chunk_ids: set[str]) -> dict[str, str]:
    from index.ingest.store import open_store

    if not chunk_ids:
        return {}
    with open_store(db_path, read_only=True) as con:
        found = con.execute("SELECT chunk_id, text FROM chunks WHERE chunk_id IN ?", [sorted(chunk_ids)]).fetchall()
    return dict(found)


def rescore_run(run_dir: Path, db_path: Path | None = None) -> int:
    """Rewrite ``results.jsonl`` (and the baseline's) with fresh scores; returns the number of rows. With the
    corpus store the run used (same corpus hash) at ``db_path``, passages get their full text back."""
    from eval.run import BASELINE, RESULTS, read_meta, write_meta
    from index.ingest.pipeline import corpus_hash

    meta = read_meta(run_dir)
    version = str(meta.get("gold_version") or "v1")
    same_corpus = db_path is not None and db_path.is_file() and corpus_hash(db_path) == meta.get("corpus_hash")
    n = 0
    for name, answers in ((RESULTS, bool(meta.get("answers", True))), (BASELINE, False)):
        path = run_dir / name
        stored = load_results(path)
        if not stored:
            continue
        texts = None
        if same_corpus and db_path is not None:
            texts = chunk_texts(db_path, {p.chunk_id for r in stored.values() for p in r.output.passages})
        fresh = rescore_results(stored, version, answers, texts)
        tmp = path.with_suffix(".rescore.tmp")
        tmp.write_text("".join(r.model_dump_json() + "\n" for r in fresh), encoding="utf-8")
        tmp.replace(path)
        n += len(fresh) if name == RESULTS else 0
    meta.update(gold_hash=gold_hash(version), rescored=True)
    write_meta(run_dir, meta)
    return n
