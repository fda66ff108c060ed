"""Which doc sections answers cite or retrieval finds, which are never reached, and which questions the
assistant could not answer (candidates for gaps in the docs worth reporting upstream).

Sources: the corpus store (sections), eval runs (cited URLs, top passage, and each run's ranked passages
from its ``results.jsonl``) and the API's query log (citations of real answers, declines, feedback).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from ui.db import query, tables
from ui.question import full_results

STATUS_ORDER = ("cited", "retrieved, never cited", "never retrieved")


def corpus_versions(corpus_db: Path) -> tuple[list[str], str | None]:
    """Ingested versions (latest first) and the latest one."""
    if "corpus_manifest" not in tables(corpus_db):
        return [], None
    df = query(corpus_db, "SELECT version, is_latest FROM corpus_manifest")
    latest = next((str(v) for v, is_latest in zip(df["version"], df["is_latest"], strict=True) if is_latest), None)
    versions = sorted((str(v) for v in df["version"]), key=_version_key, reverse=True)
    return versions, latest or (versions[0] if versions else None)


def _version_key(tag: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in tag.split("."))


def sections(corpus_db: Path, version: str, kinds: Iterable[str] = ("doc",)) -> pd.DataFrame:
    kinds = list(kinds)
    marks = ", ".join("?" * len(kinds))
    return query(
        corpus_db,
        f"SELECT url, title, area, kind, path FROM sections WHERE version = ? AND kind IN ({marks}) ORDER BY path, ordinal",
        [version, *kinds],
    )


def eval_usage(eval_db: Path) -> tuple[Counter[str], Counter[str]]:
    """(cited, retrieved) URL counts over every stored eval run; retrieved includes each run's ranked passages."""
    cited: Counter[str] = Counter()
    retrieved: Counter[str] = Counter()
    have = tables(eval_db)
    if "eval_results" not in have:
        return cited, retrieved
    rows = query(eval_db, "SELECT run_id, question_id, cited, top_passage FROM eval_results")
    for urls in rows["cited"].dropna():
        cited.update(u for u in str(urls).split() if u)
    retrieved.update(rows["top_passage"].dropna().astype(str))
    if "eval_runs" in have:
        for report_dir in query(eval_db, "SELECT report_dir FROM eval_runs")["report_dir"].dropna():
            for res in full_results(str(report_dir)).values():
                retrieved.update({p.url for p in res.output.passages})  # once per question, not per chunk
    return cited, retrieved


def log_usage(logs_db: Path) -> Counter[str]:
    """Cited URL counts in the API's query log (answers people actually got)."""
    cited: Counter[str] = Counter()
    if "query_log" not in tables(logs_db):
        return cited
    for raw in query(logs_db, "SELECT citations FROM query_log WHERE citations IS NOT NULL")["citations"]:
        try:
            items = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError:
            continue
        cited.update({str(c.get("url")) for c in items or [] if isinstance(c, dict) and c.get("url")})
    return cited


def coverage_table(secs: pd.DataFrame, cited: Counter[str], retrieved: Counter[str]) -> pd.DataFrame:
    """Sections with how often they were cited and retrieved, and a status (cited / retrieved / never)."""
    out = secs.copy()
    out["n_cited"] = [cited.get(u, 0) for u in out["url"]]
    out["n_retrieved"] = [max(retrieved.get(u, 0), cited.get(u, 0)) for u in out["url"]]
    out["status"] = [
        STATUS_ORDER[0] if c else STATUS_ORDER[1] if r else STATUS_ORDER[2]
        for c, r in zip(out["n_cited"], out["n_retrieved"], strict=True)
    ]
    return out


def by_area(cov: pd.DataFrame) -> pd.DataFrame:
    """Long table area, status, sections: for a stacked bar per docs area."""
    if cov.empty:
        return pd.DataFrame(columns=["area", "status", "sections"])
    counts = cov.groupby(["area", "status"], dropna=False).size().reset_index(name="sections")
    counts["area"] = counts["area"].fillna("(none)")
    return counts


def unanswered_log(logs_db: Path) -> pd.DataFrame:
    """Real questions the API declined, failed or fell back on, grouped by their normalised text."""
    if "query_log" not in tables(logs_db):
        return pd.DataFrame(columns=["question", "times", "versions", "reasons", "last_asked"])
    return query(
        logs_db,
        """
        SELECT any_value(question) AS question, count(*) AS times,
               string_agg(DISTINCT version, ', ') AS versions,
               string_agg(DISTINCT CASE WHEN error IS NOT NULL THEN 'error'
                                        WHEN cannot_answer THEN 'cannot answer'
                                        WHEN fallback THEN 'fallback (LM failed)' END, ', ') AS reasons,
               max(ts) AS last_asked
        FROM query_log
        WHERE (cannot_answer OR fallback OR error IS NOT NULL) AND NOT coalesce(refused, false)
        GROUP BY lower(trim(question))
        ORDER BY times DESC, last_asked DESC
        """,
    )


def downvoted(logs_db: Path) -> pd.DataFrame:
    """Answers people marked unhelpful, with their comments."""
    have = tables(logs_db)
    if not {"query_log", "feedback"} <= have:
        return pd.DataFrame(columns=["question", "answer", "comment", "ts"])
    return query(
        logs_db,
        """
        SELECT q.question, q.answer, f.comment, f.ts
        FROM feedback f JOIN query_log q ON q.trace_id = f.trace_id
        WHERE f.rating = 'down' ORDER BY f.ts DESC
        """,
    )


def unanswered_eval(eval_db: Path, question_text: dict[str, str]) -> pd.DataFrame:
    """Gold questions that should be answerable but were declined or judged wrong, across runs."""
    if "eval_results" not in tables(eval_db):
        return pd.DataFrame(columns=["question_id", "question", "category", "runs", "n_declined", "n_judged_wrong"])
    df = query(
        eval_db,
        """
        SELECT question_id, any_value(category) AS category, count(DISTINCT run_id) AS runs,
               count(*) FILTER (WHERE declined = 1 AND refusal_correct = 0) AS n_declined,
               count(*) FILTER (WHERE judge_verdict = 'wrong') AS n_judged_wrong
        FROM eval_results
        WHERE error IS NULL AND ((declined = 1 AND refusal_correct = 0) OR judge_verdict = 'wrong')
        GROUP BY question_id ORDER BY n_declined + n_judged_wrong DESC, question_id
        """,
    )
    df.insert(1, "question", [question_text.get(q, "") for q in df["question_id"]])
    return df


def summary(cov: pd.DataFrame) -> dict[str, Any]:
    n = len(cov)
    counts = cov["status"].value_counts() if n else pd.Series(dtype=int)
    return {"sections": n, **{s: int(counts.get(s, 0)) for s in STATUS_ORDER}}
