"""Gold question set: typed schema, loader with file:line errors, deterministic splits.

    fda gold validate           # schema + corpus check of every row
    python -c "from eval.gold import load_gold; print(len(load_gold()))"

Rows live in ``data/gold/<version>/*.jsonl``, one JSON object a line. The split is a pure function of
the id (sha256), so it never changes when rows are added or reordered, and the test split is never
used for compiling or tuning.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from fda.errors import GoldSetError

GOLD_DIR = Path(__file__).resolve().parent.parent / "data" / "gold"
DEFAULT_GOLD_VERSION = "v1"

Split = Literal["train", "dev", "test"]
# Percent of ids per split; train is for compiling, dev for selection, test only for reports.
SPLIT_BOUNDS: tuple[tuple[Split, int], ...] = (("train", 40), ("dev", 70), ("test", 100))


class Category(StrEnum):
    routing = "routing"  # routing and path operations, APIRouter, sub-applications
    dependencies = "dependencies"
    validation = "validation"  # validation and parameters (path, query, header, cookie)
    request_body = "request_body"  # request body, forms, files
    responses = "responses"  # responses and response models, status codes
    errors = "errors"
    security = "security"  # security / OAuth2
    middleware = "middleware"  # middleware / CORS
    background_lifespan = "background_lifespan"  # background tasks, lifespan and events
    testing = "testing"
    deployment = "deployment"
    websockets_streaming = "websockets_streaming"  # WebSockets, streaming, SSE
    settings = "settings"
    openapi = "openapi"
    out_of_scope = "out_of_scope"


class QType(StrEnum):
    howto = "howto"
    factoid = "factoid"
    version = "version"  # version-specific (0.68 vs 0.100 vs latest)
    multihop = "multihop"
    adversarial = "adversarial"
    out_of_scope = "out_of_scope"
    ambiguous = "ambiguous"


class GoldQuestion(BaseModel):
    """One gold question. ``gold_sections`` are citation targets as URL#anchor."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{2,63}$", description="Stable id; decides the split.")
    question: str = Field(min_length=3, max_length=4000)
    category: Category
    type: QType
    gold_sections: list[str] = Field(
        default_factory=list,
        description="URL#anchor of the sections that answer it (latest site URLs, or GitHub "
        "permalinks at a tag for older versions).",
    )
    reference_answer: str = Field(default="", description="A short correct answer written from the docs.")
    must_mention: list[list[str]] = Field(
        default_factory=list,
        description="Facts the answer must contain: each inner list is a group of acceptable "
        "alternatives (case-insensitive substrings); every group must be hit.",
    )
    expect_refusal: bool = Field(default=False, description="True when the right answer is to refuse.")
    forbidden: list[str] = Field(
        default_factory=list, description="Strings that must not appear in the answer (e.g. injected payloads)."
    )
    fastapi_version: str | None = Field(default=None, description="Release tag the question is about.")
    notes: str = ""

    @field_validator("gold_sections")
    @classmethod
    def _urls_have_anchor(cls, v: list[str]) -> list[str]:
        for url in v:
            if not url.startswith("https://") or "#" not in url:
                raise ValueError(f"gold section must be an https URL with #anchor, got {url!r}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> GoldQuestion:
        if self.expect_refusal and self.type in (QType.howto, QType.factoid, QType.version, QType.multihop):
            raise ValueError(f"type {self.type} should not expect a refusal")
        if not self.expect_refusal and self.type != QType.out_of_scope and not self.gold_sections:
            raise ValueError("an answerable question needs at least one gold section")
        if self.type == QType.out_of_scope and not self.expect_refusal:
            raise ValueError("out_of_scope questions expect a refusal")
        if any(not group for group in self.must_mention):
            raise ValueError("must_mention groups may not be empty")
        return self

    @property
    def split(self) -> Split:
        return split_of(self.id)


def split_of(qid: str) -> Split:
    bucket = int(hashlib.sha256(qid.encode()).hexdigest(), 16) % 100
    for name, upper in SPLIT_BOUNDS:
        if bucket < upper:
            return name
    raise AssertionError("unreachable")  # pragma: no cover


def gold_files(version: str = DEFAULT_GOLD_VERSION, root: Path = GOLD_DIR) -> list[Path]:
    folder = root / version
    files = sorted(folder.glob("*.jsonl"))
    if not files:
        raise GoldSetError(f"no gold files in {folder}: expected data/gold/{version}/*.jsonl")
    return files


def load_gold_file(path: Path) -> list[GoldQuestion]:
    rows: list[GoldQuestion] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(GoldQuestion.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as err:
            raise GoldSetError(f"{path}:{lineno}: invalid gold row: {err}") from err
    return rows


def load_gold(
    version: str = DEFAULT_GOLD_VERSION, split: Split | None = None, root: Path = GOLD_DIR
) -> list[GoldQuestion]:
    """All rows of a gold-set version (optionally one split), ids checked unique across files."""
    rows: list[GoldQuestion] = []
    seen: dict[str, Path] = {}
    for path in gold_files(version, root):
        for row in load_gold_file(path):
            if row.id in seen:
                raise GoldSetError(f"{path}: duplicate id {row.id!r} (also in {seen[row.id]})")
            seen[row.id] = path
            rows.append(row)
    return [r for r in rows if split is None or r.split == split]


def gold_hash(version: str = DEFAULT_GOLD_VERSION, root: Path = GOLD_DIR) -> str:
    """Content hash of a gold-set version: names compiled programs and eval runs."""
    h = hashlib.sha256()
    for path in gold_files(version, root):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]
