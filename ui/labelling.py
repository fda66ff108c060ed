"""Human spot checks: what is left to label in a run, saving a label, and judge-human agreement.

Labels go through the eval package (``eval.store.save_labels``: an upsert keyed on run, question and
labeller) into ``eval.duckdb``. Agreement pairs a run's answers with labels on (question id, sha of the
answer text), exactly as ``eval.aggregate.agreement`` does for reports, and uses ``eval.stats.cohen_kappa``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd

from eval.labels import AnswerLabel, HumanLabel, answer_sha
from eval.stats import cohen_kappa
from eval.store import save_labels
from fda.errors import EvalError
from ui.db import PROCESS_LOCK, query, tables

log = logging.getLogger(__name__)

VERDICTS: tuple[AnswerLabel, ...] = ("correct", "partly", "wrong")
LABEL_COLUMNS = [
    "run_id",
    "question_id",
    "answer_sha",
    "answer_label",
    "citations_ok",
    "note",
    "labeller",
    "labelled_at",
]


def load_labels(eval_db: Path) -> pd.DataFrame:
    if "labels" not in tables(eval_db):
        return pd.DataFrame(columns=LABEL_COLUMNS)
    return query(eval_db, "SELECT * FROM labels ORDER BY labelled_at")


def with_sha(results: pd.DataFrame) -> pd.DataFrame:
    out = results.copy()
    out["answer_sha"] = [answer_sha(a or "") for a in out["answer"].fillna("")]
    return out


def label_queue(results: pd.DataFrame, labels: pd.DataFrame, labeller: str) -> pd.DataFrame:
    """Rows of a run still to label by ``labeller``: no error, and this exact answer not labelled by them yet."""
    rows = with_sha(results)
    rows = rows[rows["error"].isna()]
    mine = labels[labels["labeller"] == labeller]
    done = set(zip(mine["question_id"], mine["answer_sha"], strict=True))
    keep = [(q, s) not in done for q, s in zip(rows["question_id"], rows["answer_sha"], strict=True)]
    return rows[keep].reset_index(drop=True)


def save_label(eval_db: Path, label: HumanLabel) -> None:
    """Upsert one label; a store held by another writer (an eval run, a report) is retried, then explained."""
    try:
        with PROCESS_LOCK:
            save_labels(eval_db, [label])
    except EvalError as err:
        raise EvalError(
            f"label not saved: {str(err).splitlines()[0]}",
            hint="Another process (an eval run, `fda eval report` or `fda eval label`) is writing the eval store. "
            "Press Save again in a few seconds: the form keeps your answer.",
        ) from err
    log.info("saved label %s/%s by %s", label.run_id, label.question_id, label.labeller)


def _latest_by_key(labels: pd.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    ordered = labels.sort_values("labelled_at") if "labelled_at" in labels else labels
    return {(str(r["question_id"]), str(r["answer_sha"])): r for r in ordered.to_dict("records")}


def pairs(results: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """One row per labelled answer of the run: judge verdict vs human label, citation check vs human."""
    by_key = _latest_by_key(labels)
    rows = []
    for r in with_sha(results).to_dict("records"):
        lab = by_key.get((str(r["question_id"]), r["answer_sha"]))
        if lab is None:
            continue
        precision = r.get("citation_precision_section")
        cites_ok = lab.get("citations_ok")
        rows.append(
            {
                "question_id": r["question_id"],
                "labelled_at": lab.get("labelled_at"),
                # a declined answer's verdict is automatic (no judge call): kept out of agreement
                "judge": r.get("judge_verdict")
                if isinstance(r.get("judge_verdict"), str) and r.get("declined") != 1
                else None,
                "human": lab.get("answer_label") or None,
                "auto_citations": None
                if precision is None or pd.isna(precision)
                else ("yes" if precision == 1.0 else "no"),
                "human_citations": None if cites_ok is None or pd.isna(cites_ok) else ("yes" if cites_ok else "no"),
            }
        )
    cols = ["question_id", "labelled_at", "judge", "human", "auto_citations", "human_citations"]
    return pd.DataFrame(rows, columns=cols)


def agreement(paired: pd.DataFrame) -> dict[str, Any]:
    """Cohen's kappa (and n) of judge vs human answer labels and of the citation check vs human."""
    judge = paired.dropna(subset=["judge", "human"])
    cites = paired.dropna(subset=["auto_citations", "human_citations"])
    return {
        "n_judge": len(judge),
        "kappa_judge_human": cohen_kappa(list(judge["judge"]), list(judge["human"])),
        "n_citations": len(cites),
        "kappa_citations_human": cohen_kappa(list(cites["auto_citations"]), list(cites["human_citations"])),
    }


def kappa_curve(paired: pd.DataFrame) -> pd.DataFrame:
    """Judge-human kappa after each label, in labelling order: how the estimate settles as labels accumulate."""
    judge = paired.dropna(subset=["judge", "human"]).sort_values("labelled_at")
    rows = []
    for n in range(1, len(judge) + 1):
        head = judge.iloc[:n]
        rows.append({"labels": n, "kappa": cohen_kappa(list(head["judge"]), list(head["human"]))})
    return pd.DataFrame(rows, columns=["labels", "kappa"])


def confusion(paired: pd.DataFrame) -> pd.DataFrame:
    """Judge verdict (rows) against human label (columns), counts."""
    judge = paired.dropna(subset=["judge", "human"])
    table = pd.crosstab(judge["judge"], judge["human"])
    return table.reindex(index=list(VERDICTS), columns=list(VERDICTS), fill_value=0)
