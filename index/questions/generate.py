"""Questions generated from the docs' sections (doc2query), made once offline and committed.

    fda gen-questions --model local:qwen2.5-coder-1.5b      # ~1 h on 2 CPU cores for the latest docs

Each docs section of the latest version (release notes excluded) gets up to 3 questions a developer would
ask that it answers (signatures/section_questions.py). They serve retrieval as a question-to-question
signal in ``fused`` (index/retrieval/question_vectors.py) and can serve as training queries. No gold question is
read. The run appends one JSON line per section as it goes, so an interrupted run resumes where it
stopped and loses nothing; ``manifest.json`` records the model, the prompt's hash, the corpus and timings.

Output: ``data/retriever/<retrieval.questions_artifact>/questions.jsonl`` (+ ``manifest.json``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fda.errors import ConfigError, LMError
from index.ingest.store import open_store
from index.retrieval.question_vectors import QUESTIONS_FILE, load_questions

log = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
SECTION_CHARS = 1000  # of a section's text shown to the LM (the heading path comes first)
MIN_SECTION_CHARS = 80  # shorter sections (a lone heading, a one-line pointer) get no questions
MAX_QUESTIONS = 3
MAX_QUESTION_CHARS = 200


@dataclass(frozen=True)
class DocSection:
    url: str  # URL#anchor: the key (stable across re-ingests, the same form as the gold set's sections)
    heading_path: tuple[str, ...]
    text: str

    def prompt(self, limit: int = SECTION_CHARS) -> str:
        text = self.text if len(self.text) <= limit else self.text[:limit].rsplit(" ", 1)[0] + " ..."
        return " > ".join(self.heading_path) + "\n\n" + text


def load_sections(db_path: Path, version: str, min_chars: int = MIN_SECTION_CHARS) -> list[DocSection]:
    """The docs sections (not release notes) of ``version`` with some text, in URL order."""
    with open_store(db_path, read_only=True) as con:
        rows = con.execute(
            "SELECT url, heading_path, text FROM sections WHERE version = ? AND kind = 'doc' "
            "AND length(text) >= ? ORDER BY url, ordinal",
            [version, min_chars],
        ).fetchall()
    seen: set[str] = set()
    out: list[DocSection] = []
    for url, heading_path, text in rows:
        if url in seen:  # an anchor repeated on one page: the first section keeps it
            continue
        seen.add(url)
        out.append(DocSection(url, tuple(heading_path or ()), text))
    return out


_LEADING = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")


def clean_questions(raw: Iterable[object], banned: Iterable[str] = ()) -> list[str]:
    """Strip list markers, drop empties, over-long lines, exact repeats and copies of the prompt's examples."""
    banned_keys = {b.strip().lower() for b in banned}
    out: list[str] = []
    keys: set[str] = set()
    for item in raw:
        if not isinstance(item, str):
            continue
        q = _LEADING.sub("", item).strip().strip('"').strip()
        key = q.lower()
        if len(q) < 8 or len(q) > MAX_QUESTION_CHARS or key in keys or key in banned_keys:
            continue
        keys.add(key)
        out.append(q)
        if len(out) == MAX_QUESTIONS:
            break
    return out


def prompt_hash(instructions: str, demos: Sequence[object]) -> str:
    return hashlib.sha256((instructions + "\n" + repr(list(demos))).encode()).hexdigest()[:12]


Ask = Callable[[DocSection], list[str]]


MAX_FAILURES_IN_A_ROW = 8


def repair_tail(path: Path) -> None:
    """Make ``path`` end with a newline before rows are appended: a complete last row that lacks one gets it;
    an interrupted, half-written last row is cut off (its section is asked again)."""
    if not path.exists() or path.stat().st_size == 0:
        return
    data = path.read_bytes()
    if data.endswith(b"\n"):
        return
    cut = data.rfind(b"\n") + 1
    last = data[cut:]
    try:
        row = json.loads(last)
        complete = isinstance(row, dict) and "url" in row and isinstance(row.get("questions"), list)
    except ValueError:
        complete = False
    with path.open("r+b") as f:
        if complete:
            f.seek(0, 2)
            f.write(b"\n")
        else:
            log.warning("%s: dropping a half-written last line (its section is asked again)", path)
            f.truncate(cut)


def pending(sections: Sequence[DocSection], out_dir: Path, limit: int | None = None) -> tuple[int, list[DocSection]]:
    """(sections already answered in ``out_dir``, the sections still to ask, at most ``limit``)."""
    done = load_questions(out_dir / QUESTIONS_FILE)
    todo = [s for s in sections if s.url not in done]
    return len(sections) - len(todo), todo[:limit] if limit is not None else todo


def generate(
    sections: Sequence[DocSection],
    ask: Ask,
    out_dir: Path,
    *,
    workers: int = 1,
    banned: Iterable[str] = (),
    on_done: Callable[[int], None] | None = None,
    limit: int | None = None,
    max_failures_in_a_row: int = MAX_FAILURES_IN_A_ROW,
) -> dict[str, int]:
    """Ask for the sections not yet in ``out_dir/questions.jsonl`` and append each answer as it comes.

    ``ask`` may raise: the section is logged and left out (a rerun asks again). After
    ``max_failures_in_a_row`` failures in a row (a dead or misconfigured LM) the run stops with an
    ``LMError``; every row written so far stays. Returns counts.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / QUESTIONS_FILE
    repair_tail(path)
    already, todo = pending(sections, out_dir, limit)
    banned = list(banned)
    counts = {"sections": len(sections), "already": already, "asked": 0, "failed": 0, "empty": 0}

    def one(section: DocSection) -> tuple[DocSection, list[str] | None, float, str]:
        t0 = time.perf_counter()
        try:
            return section, clean_questions(ask(section), banned), time.perf_counter() - t0, ""
        except Exception as exc:
            log.warning("no questions for %s: %s", section.url, exc)
            return section, None, time.perf_counter() - t0, f"{type(exc).__name__}: {exc}"

    in_a_row = 0
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    try:
        with path.open("a", encoding="utf-8") as f:
            # as_completed: an answer is written as soon as it is back, so an interrupt loses only those in flight
            for future in as_completed([pool.submit(one, t) for t in todo]):
                section, questions, seconds, error = future.result()
                counts["asked"] += 1
                if questions is None:
                    counts["failed"] += 1
                    in_a_row += 1
                    if in_a_row >= max_failures_in_a_row:
                        raise LMError(
                            f"{in_a_row} sections in a row got no answer from the LM (last: {error}); "
                            f"stopped after {counts['asked']} of {len(todo)}, {counts['asked'] - counts['failed']} "
                            "written",
                            hint="Check that the LM answers (`fda models list`, the model string, the server); "
                            "rerun the same command to continue where it stopped.",
                        )
                else:
                    in_a_row = 0
                    counts["empty"] += not questions
                    row = {"url": section.url, "questions": questions, "seconds": round(seconds, 2)}
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
                    f.flush()
                if on_done is not None:
                    on_done(1)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return counts


PROVENANCE = ("model", "model_sha256", "temperature", "prompt_sha", "version", "corpus_hash")


def check_provenance(out_dir: Path, current: dict[str, object]) -> None:
    """Refuse to resume into questions another model, prompt or corpus wrote (a ``--limit`` trial with one
    model, then the full run with another, would otherwise mix them under one manifest)."""
    rows = load_questions(out_dir / QUESTIONS_FILE)
    if not rows:
        return
    manifest = out_dir / MANIFEST_FILE
    if not manifest.exists():
        log.warning("%s has %d rows but no manifest: cannot check what wrote them; resuming", out_dir, len(rows))
        return
    try:
        before = json.loads(manifest.read_text())
    except ValueError as exc:
        raise ConfigError(
            f"{manifest} is not valid JSON ({exc})", hint="Restore it from git, or start over with --fresh."
        ) from exc
    changed = [f"{k}: {before.get(k)!r} -> {current.get(k)!r}" for k in PROVENANCE if before.get(k) != current.get(k)]
    if changed:
        raise ConfigError(
            f"{len(rows)} sections in {out_dir} were written with other inputs ({'; '.join(changed)})",
            hint="Start over with --fresh (moves them to questions.jsonl.bak), or write elsewhere with --out DIR.",
        )


def start_fresh(out_dir: Path) -> None:
    """Move the folder's questions aside (``questions.jsonl.bak``) and drop its manifest."""
    path = out_dir / QUESTIONS_FILE
    if path.exists():
        path.replace(path.with_name(QUESTIONS_FILE + ".bak"))
        log.info("moved %s to %s.bak", path, QUESTIONS_FILE)
    (out_dir / MANIFEST_FILE).unlink(missing_ok=True)


def _earlier_runs(out_dir: Path) -> list[object]:
    try:
        before = json.loads((out_dir / MANIFEST_FILE).read_text())
    except (OSError, ValueError):
        return []
    runs = before.get("runs")
    if isinstance(runs, list):
        return runs
    return [before["last_run"]] if "last_run" in before else []


def write_manifest(out_dir: Path, info: dict[str, object]) -> Path:
    """The folder's manifest: ``info`` plus what is on disk; ``runs`` keeps every run's ``last_run`` (a resumed
    generation is several runs)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    questions = out_dir / QUESTIONS_FILE
    rows = load_questions(questions)
    runs = _earlier_runs(out_dir)
    if "last_run" in info:
        runs = [*runs, info["last_run"]]
    data = {
        **info,
        "runs": runs,
        "n_sections": len(rows),
        "n_questions": sum(len(q) for q in rows.values()),
        "questions_sha256": hashlib.sha256(questions.read_bytes()).hexdigest() if questions.exists() else None,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    path = out_dir / MANIFEST_FILE
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path
