"""Gold question set: typed schema, loader with file:line errors, splits.

    fda gold validate --version v2     # schema, lint, retrievability, split grouping
    python -c "from eval.gold import load_gold; print(len(load_gold()))"

Rows live in ``data/gold/<version>/*.jsonl``, one JSON object a line.

- **v1** (172 rows, kept for comparisons with earlier results): the split is a pure function of the id
  (sha256 bucket: train / dev / test).
- **v2**: relevance as any-of groups with graded relevance (``gold_groups``), answer keys as atomic facts
  with polarity (``facts``), where each question came from (``source``), a near-duplicate ``group``, and a
  stored ``split`` (train / dev-select / dev-confirm / test) assigned once by ``fda gold split``
  (eval/gold_split.py: stratified by type x category, grouped). Its test split is sealed
  (eval/sealed.py): ``load_gold`` refuses it unless handed the token that the logged confirm command makes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from fda.errors import GoldSetError, SealedSplitError

GOLD_DIR = Path(__file__).resolve().parent.parent / "data" / "gold"
DEFAULT_GOLD_VERSION = "v1"
MANIFEST_FILE = "manifest.json"

Split = Literal["train", "dev", "test", "dev-select", "dev-confirm"]
V1Split = Literal["train", "dev", "test"]
# v1: percent of ids per split; train is for compiling, dev for selection, test only for reports.
SPLIT_BOUNDS: tuple[tuple[V1Split, int], ...] = (("train", 40), ("dev", 70), ("test", 100))
# v2: stored per row. dev-select chooses between candidates, dev-confirm checks the choice once, test is sealed.
V2_SPLITS: tuple[Split, ...] = ("train", "dev-select", "dev-confirm", "test")
SEALED_SPLIT: Split = "test"


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
    unanswerable = "unanswerable"  # on-topic, but the docs do not answer it: decline
    false_premise = "false_premise"  # presupposes an API that does not exist or a claim the docs contradict


# Types whose right answer is an answer (never a refusal), and types whose right answer is always a refusal.
ANSWER_TYPES: frozenset[QType] = frozenset({QType.howto, QType.factoid, QType.version, QType.multihop})
REFUSAL_TYPES: frozenset[QType] = frozenset({QType.out_of_scope, QType.unanswerable})


class GoldGroup(BaseModel):
    """One needed piece of information: any of ``sections`` gives it. Grade 2 answers it, grade 1 is related."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sections: list[str] = Field(min_length=1)
    grade: Literal[1, 2] = 2
    pooled: bool = Field(default=False, description="Added by relevance pooling (eval/pooling.py), not the writer.")

    @field_validator("sections")
    @classmethod
    def _urls_have_anchor(cls, v: list[str]) -> list[str]:
        return _check_urls(v)


class Fact(BaseModel):
    """An atomic answer key: ``must`` = a correct answer states it; ``must_not`` = a wrong claim it must not make."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim: str = Field(min_length=8, max_length=400)
    polarity: Literal["must", "must_not"] = "must"


class Source(BaseModel):
    """Where the question came from: a real user's words on a public page, or written for the set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["user", "written"]
    url: str | None = None

    @model_validator(mode="after")
    def _user_has_url(self) -> Source:
        if self.kind == "user" and not (self.url or "").startswith(("https://", "http://")):
            raise ValueError("a user question needs the page url it was taken from")
        return self


def _check_urls(v: list[str]) -> list[str]:
    for url in v:
        if not url.startswith("https://") or "#" not in url:
            raise ValueError(f"gold section must be an https URL with #anchor, got {url!r}")
    return v


class GoldQuestion(BaseModel):
    """One gold question. ``gold_sections`` are citation targets as URL#anchor."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

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
    # --- v2 ---
    gold_groups: list[GoldGroup] = Field(
        default_factory=list,
        description="v2: any-of section groups with graded relevance; gold_sections is derived from the grade-2 ones.",
    )
    facts: list[Fact] = Field(default_factory=list, description="v2: atomic answer keys with polarity.")
    source: Source | None = Field(default=None, description="v2: a real user's question (with its page) or written.")
    group: str | None = Field(default=None, description="v2: near-duplicates share a group (and so a split).")
    assigned_split: Split | None = Field(
        default=None, alias="split", description="v2: the stored split (fda gold split assigns it once)."
    )

    @field_validator("gold_sections")
    @classmethod
    def _urls_have_anchor(cls, v: list[str]) -> list[str]:
        return _check_urls(v)

    @model_validator(mode="before")
    @classmethod
    def _sections_from_groups(cls, data: object) -> object:
        """v2 rows give ``gold_groups``; ``gold_sections`` (what v1 code reads) is their grade-2 sections."""
        if isinstance(data, dict) and data.get("gold_groups"):
            if data.get("gold_sections"):
                raise ValueError("give gold_groups or gold_sections, not both")
            sections: list[str] = []
            for group in data["gold_groups"]:
                if isinstance(group, dict) and group.get("grade", 2) == 2:
                    sections += [u for u in group.get("sections", []) if u not in sections]
            data = {**data, "gold_sections": sections}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> GoldQuestion:
        if self.expect_refusal and self.type in ANSWER_TYPES:
            raise ValueError(f"type {self.type} should not expect a refusal")
        if not self.expect_refusal and self.type in REFUSAL_TYPES:
            raise ValueError(f"{self.type} questions expect a refusal")
        if not self.expect_refusal and not self.gold_sections:
            raise ValueError("an answerable question needs at least one gold section (a grade-2 group in v2)")
        if any(not group for group in self.must_mention):
            raise ValueError("must_mention groups may not be empty")
        return self

    @property
    def split(self) -> Split:
        return self.assigned_split or split_of(self.id)

    @property
    def strata(self) -> str:
        """The stratum splits are balanced over: type x category."""
        return f"{self.type.value}/{self.category.value}"

    @property
    def dedupe_group(self) -> str:
        return self.group or self.id

    def relevance(self) -> dict[str, int]:
        """URL#anchor -> graded relevance (2 answers it, 1 related); v1 rows: every gold section is 2."""
        if not self.gold_groups:
            return dict.fromkeys(self.gold_sections, 2)
        grades: dict[str, int] = {}
        for group in self.gold_groups:
            for url in group.sections:
                grades[url] = max(grades.get(url, 0), group.grade)
        return grades

    def answer_groups(self) -> list[list[str]]:
        """The grade-2 groups (one per needed piece); v1 rows: one group per gold section."""
        if not self.gold_groups:
            return [[u] for u in self.gold_sections]
        return [list(g.sections) for g in self.gold_groups if g.grade == 2]


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


def rewrite_rows(version: str, edit: Callable[[dict[str, Any]], int], root: Path = GOLD_DIR) -> int:
    """Apply ``edit`` to every row's JSON object, in place, file by file (key order and row order kept, blank
    lines dropped); returns the sum of what ``edit`` returned (how many changes it made)."""
    changed = 0
    for path in gold_files(version, root):
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        changed += sum(edit(record) for record in records)
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return changed


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


@dataclass(frozen=True)
class SealedAccess:
    """Leave to read a sealed split, made only by eval/sealed.py's ``open_sealed`` after it logged the read."""

    version: str
    entry_id: str


def manifest(version: str = DEFAULT_GOLD_VERSION, root: Path = GOLD_DIR) -> dict[str, Any]:
    """``data/gold/<version>/manifest.json`` (split proportions, seed, sealed split); {} for v1."""
    path = root / version / MANIFEST_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise GoldSetError(f"{path}: not JSON: {err}", hint="Restore it with git checkout.") from err
    if not isinstance(data, dict):
        raise GoldSetError(f"{path}: expected a JSON object")
    return data


def sealed_split(version: str = DEFAULT_GOLD_VERSION, root: Path = GOLD_DIR) -> str | None:
    """The split of this version that only the logged confirm command may read (None: nothing sealed)."""
    value = manifest(version, root).get("sealed_split")
    return str(value) if value else None


def load_all_rows(version: str = DEFAULT_GOLD_VERSION, root: Path = GOLD_DIR) -> list[GoldQuestion]:
    """Every row, sealed ones included: for validating and splitting the set, never for scoring a program."""
    rows: list[GoldQuestion] = []
    seen: dict[str, Path] = {}
    for path in gold_files(version, root):
        for row in load_gold_file(path):
            if row.id in seen:
                raise GoldSetError(f"{path}: duplicate id {row.id!r} (also in {seen[row.id]})")
            seen[row.id] = path
            rows.append(row)
    return rows


def load_gold(
    version: str = DEFAULT_GOLD_VERSION,
    split: Split | None = None,
    root: Path = GOLD_DIR,
    access: SealedAccess | None = None,
) -> list[GoldQuestion]:
    """Rows of a gold-set version (optionally one split), ids checked unique across files.

    A sealed split (v2's test) is left out, and asking for it raises, unless ``access`` is the token
    that ``eval.sealed.open_sealed`` hands out after appending the read to the committed access log.
    """
    sealed = sealed_split(version, root)
    unlocked = access is not None and access.version == version
    if sealed and split == sealed and not unlocked:
        raise SealedSplitError(
            f"the {sealed} split of gold {version} is sealed",
            hint="Choose on train and dev-select, check once on dev-confirm; read the test split only with "
            "`fda eval confirm` (it appends who, what, when and the git sha to the access log).",
        )
    rows = load_all_rows(version, root)
    if split is not None:
        return [r for r in rows if r.split == split]
    return [r for r in rows if unlocked or not sealed or r.split != sealed]


def gold_hash(version: str = DEFAULT_GOLD_VERSION, root: Path = GOLD_DIR) -> str:
    """Content hash of a gold-set version: names compiled programs and eval runs."""
    h = hashlib.sha256()
    for path in gold_files(version, root):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]
