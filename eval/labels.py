"""Human spot-check labels: schema and CSV/JSONL import (rows rejected with file and line).

    fda eval label --template RUN_ID      # writes labels-template.csv in the run folder
    fda eval label labels.csv             # imports into state/eval.duckdb (table labels)

A label grades one answer of one run: ``answer_label`` correct/partly/wrong, ``citations_ok`` yes/no,
a note and who labelled it. Labels key on (question id, sha of the answer text), so a later run that
gives the very same answer reuses them for judge-human agreement.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fda.errors import EvalError

AnswerLabel = Literal["correct", "partly", "wrong"]
LABEL_COLUMNS = ("run_id", "question_id", "answer_label", "citations_ok", "note", "labeller")
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


def answer_sha(answer: str) -> str:
    return hashlib.sha256(answer.strip().encode()).hexdigest()[:16]


class HumanLabel(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    run_id: str = Field(min_length=1)
    question_id: str = Field(min_length=1)
    answer_label: AnswerLabel
    citations_ok: bool | None = Field(default=None, description="Do the citations support the answer? yes/no.")
    note: str = ""
    facts: list[Literal["stated", "contradicted", "absent"]] | None = Field(
        default=None, description="Per gold fact, in the row's order: does the answer state it? (v2 labels)"
    )
    labeller: str = Field(min_length=1)
    answer_sha: str | None = Field(default=None, description="Filled on import from the run's stored answer.")
    labelled_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_validator("answer_label", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("citations_ok", mode="before")
    @classmethod
    def _yes_no(cls, v: Any) -> Any:
        if isinstance(v, str):
            low = v.strip().lower()
            if not low:
                return None
            if low in _YES:
                return True
            if low in _NO:
                return False
            raise ValueError(f"citations_ok must be yes or no, got {v!r}")
        return v


def _records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        out: list[tuple[int, dict[str, Any]]] = []
        for lineno, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    out.append((lineno, json.loads(line)))
                except json.JSONDecodeError as err:
                    raise EvalError(f"{path}:{lineno}: not JSON: {err}") from err
        return out
    if path.suffix == ".csv":
        reader = csv.DictReader(text.splitlines())
        return [(reader.line_num, dict(row)) for row in reader]
    raise EvalError(f"{path}: labels must be a .csv or .jsonl file", hint=f"Columns: {', '.join(LABEL_COLUMNS)}.")


def load_labels(path: Path) -> list[HumanLabel]:
    """Every row validated; the first bad one stops the import with its file and line."""
    if not path.is_file():
        raise EvalError(f"no labels file at {path}")
    labels: list[HumanLabel] = []
    for lineno, record in _records(path):
        try:
            labels.append(HumanLabel.model_validate({k: v for k, v in record.items() if k is not None}))
        except ValidationError as err:
            raise EvalError(
                f"{path}:{lineno}: invalid label: {err}", hint=f"Columns: {', '.join(LABEL_COLUMNS)}."
            ) from err
    return labels


def write_template(path: Path, run_id: str, rows: list[dict[str, Any]]) -> Path:
    """A CSV to fill in: one line per answered question (question, answer and citations to read)."""
    fields = ["run_id", "question_id", "question", "answer", "cited", *LABEL_COLUMNS[2:]]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({"run_id": run_id, **row})
    return path


def section_texts(db_path: Path, urls: Sequence[str]) -> dict[str, str]:
    """The full text of each section URL (its chunks in order) from the store, for a labelling pack."""
    from index.ingest.store import open_store

    wanted = sorted(set(urls))
    if not wanted:
        return {}
    with open_store(db_path, read_only=True) as con:
        rows = con.execute(
            "SELECT url, text FROM chunks WHERE url IN (SELECT unnest(?)) ORDER BY url, ordinal, chunk_id", [wanted]
        ).fetchall()
    out: dict[str, list[str]] = {}
    for url, text in rows:
        out.setdefault(url, []).append(text)
    return {url: "\n\n".join(parts) for url, parts in out.items()}


def label_pack(
    run_id: str, rows: Sequence[dict[str, Any]], gold: dict[str, Any], texts: dict[str, str]
) -> list[dict[str, Any]]:
    """One self-contained record per answered question of a committed run (eval/results/<run>.jsonl): what a
    labelling pass reads (docs/labelling.md). Declined answers are left out: their label is automatic."""
    pack = []
    for row in rows:
        g = gold.get(row["question_id"])
        if g is None or row.get("declined") or not row.get("answer"):
            continue
        cited = [c["url"] for c in row.get("cited", [])]
        pack.append(
            {
                "run_id": run_id,
                "question_id": row["question_id"],
                "answer_sha": answer_sha(row["answer"]),
                "question": g.question,
                "expect_refusal": g.expect_refusal,
                "reference_answer": g.reference_answer,
                "facts": [{"claim": f.claim, "polarity": f.polarity} for f in g.facts],
                "answer": row["answer"],
                "cited": [
                    {"number": c["number"], "url": c["url"], "text": texts.get(c["url"], "")}
                    for c in row.get("cited", [])
                ],
                "gold_sections": {u: texts.get(u, "") for u in g.gold_sections if u not in cited},
            }
        )
    return pack
