"""Relevance pooling: complete the gold groups with what the retrievers actually return.

    fda gold pool --version v2 --depth 5          # every backend's top k per answerable row -> candidates
    (judge the candidates: data/gold/<version>/pool/judgments*.jsonl, one line per (row, section))
    fda gold pool --version v2 --merge            # grade-2 judgments join a group, grade-1 a related group

A gold set written by reading the docs misses sections that answer the question just as well; a
retriever returning one of those is then scored as a miss. Pooling (as TREC does) takes the union of
every backend's top k for each row, drops what the row already names or a judgment already covers,
and asks for a grade: 2 answers (a part of) it, 1 related, 0 not relevant. A judgment of 2 names the
answer group (0-based, in the row's order of grade-2 groups) whose piece the section gives.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eval.gold import GOLD_DIR, GoldQuestion, rewrite_rows
from eval.gold_check import all_sections
from eval.retrieval_quality import targets
from fda.errors import GoldSetError
from index.retrieval.base import Retriever

POOL_DIR = "pool"
CANDIDATES = "candidates.jsonl"
JUDGMENTS = "judgments.jsonl"


@dataclass(frozen=True)
class Candidate:
    id: str
    question: str
    version: str
    url: str
    backends: list[str]
    best_rank: int
    text: str = ""


def judged(version: str, root: Path = GOLD_DIR) -> dict[tuple[str, str], dict[str, Any]]:
    """Every judgment in ``pool/judgments*.jsonl`` (one file per judging pass), keyed by (row id, url)."""
    out = {}
    for path in sorted((root / version / POOL_DIR).glob("judgments*.jsonl")):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    j = json.loads(line)
                    out[(j["id"], j["url"])] = j
                except (json.JSONDecodeError, KeyError) as err:
                    raise GoldSetError(f"{path}:{lineno}: bad judgment: {err}") from err
    return out


def pool(
    rows: Sequence[GoldQuestion],
    retrievers: Mapping[str, Retriever],
    known_versions: Sequence[str],
    latest: str,
    depth: int = 5,
    skip: Mapping[tuple[str, str], Any] | None = None,
) -> list[Candidate]:
    """The sections any backend ranks in its top ``depth`` that the row does not name and nobody judged."""
    skip = skip or {}
    out: list[Candidate] = []
    for t in targets(rows, known_versions, latest):
        named = set(all_sections(t.question))
        found: dict[str, tuple[list[str], int, str]] = {}
        for name, retriever in retrievers.items():
            seen: list[str] = []
            for p in retriever.search(t.question.question, k=depth * 4, version=t.version):
                if p.url in seen:
                    continue
                seen.append(p.url)
                if len(seen) > depth:
                    break
                if p.url in named or (t.question.id, p.url) in skip:
                    continue
                backends, best, text = found.get(p.url, ([], 99, p.text))
                found[p.url] = ([*backends, name], min(best, len(seen)), text)
        out += [
            Candidate(t.question.id, t.question.question, t.version, url, b, rank, text[:600])
            for url, (b, rank, text) in sorted(found.items(), key=lambda kv: kv[1][1])
        ]
    return out


def write_candidates(candidates: Sequence[Candidate], version: str, root: Path = GOLD_DIR) -> Path:
    path = root / version / POOL_DIR / CANDIDATES
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(asdict(c), ensure_ascii=False) + "\n" for c in candidates), encoding="utf-8")
    return path


def merge_judgments(version: str, root: Path = GOLD_DIR) -> int:
    """Fold the judgments into the gold files (grade 2 -> an alternative in the named answer group, grade 1
    -> the row's related group); returns how many sections were added. Idempotent."""
    by_row: dict[str, list[dict[str, Any]]] = {}
    for (rid, _), j in judged(version, root).items():
        if j.get("grade") in (1, 2):
            by_row.setdefault(rid, []).append(j)

    def fold(record: dict[str, Any]) -> int:
        mine = by_row.get(record["id"])
        return _fold(record, mine) if mine and record.get("gold_groups") else 0

    return rewrite_rows(version, fold, root)


def _fold(record: dict[str, Any], marks: list[dict[str, Any]]) -> int:
    groups: list[dict[str, Any]] = record["gold_groups"]
    answer = [g for g in groups if g.get("grade", 2) == 2]
    named = {u for g in groups for u in g["sections"]}
    added = 0
    for j in sorted(marks, key=lambda j: j["url"]):
        if j["url"] in named:
            continue
        if j["grade"] == 2 and answer:
            index = int(j.get("group") or 0)
            answer[min(max(index, 0), len(answer) - 1)]["sections"].append(j["url"])
        else:
            related = next((g for g in groups if g.get("grade") == 1 and g.get("pooled")), None)
            if related is None:
                related = {"sections": [], "grade": 1, "pooled": True}
                groups.append(related)
            related["sections"].append(j["url"])
        named.add(j["url"])
        added += 1
    return added
