"""``fda ingest``: corpus snapshots -> DuckDB (documents, sections, chunks, releases, manifest).

    fda ingest                                  # the three dumps in ../shared/corpus
    fda ingest --source ~/src/fastapi --version 0.115.0
    fda ingest --source github:fastapi/fastapi@0.100.0

Idempotent: the same input gives the same ids, and an unchanged version is skipped (``--force`` redoes it).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from fda.settings import ChunkingSettings
from index.ingest.chunking import chunk_id, chunk_text, get_counter
from index.ingest.includes import IncludeResolver
from index.ingest.pages import Page, process_page
from index.ingest.sources import DOCS_DIR, Snapshot, load_sources, version_key
from index.ingest.store import manifest, open_store, replace_versions

log = logging.getLogger(__name__)

PARSER_VERSION = "1"  # bump when parsing changes what is stored


def _hid(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]


def area_of(path: str) -> str:
    rel = path.removeprefix(DOCS_DIR)
    if rel == "release-notes.md":
        return "release-notes"
    return rel.split("/", 1)[0] if "/" in rel else "top"


@dataclass
class VersionReport:
    version: str
    origin: str
    status: str = "ingested"
    n_files: int = 0
    n_documents: int = 0
    n_sections: int = 0
    n_chunks: int = 0
    n_releases: int = 0
    n_includes: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    include_problems: list[tuple[str, str]] = field(default_factory=list)
    undecodable: list[str] = field(default_factory=list)


@dataclass
class IngestSummary:
    db_path: Path
    reports: list[VersionReport]
    seconds: float = 0.0


def chunk_policy(cfg: ChunkingSettings) -> str:
    return f"{cfg.tokenizer}:max{cfg.max_tokens}:min{cfg.min_tokens}"


def build_frames(
    snap: Snapshot, latest: bool, cfg: ChunkingSettings, progress: bool = False
) -> tuple[dict[str, pd.DataFrame], VersionReport]:
    """Parse one snapshot into table rows (pure: no I/O)."""
    count = get_counter(cfg.tokenizer)
    resolver = IncludeResolver(snap.files)
    report = VersionReport(snap.version, snap.origin, n_files=len(snap.files), undecodable=list(snap.undecodable))
    docs, sections, chunks, releases, issues = [], [], [], [], []
    pages: list[Page] = []
    for path in tqdm(snap.md_paths, desc=f"parse {snap.version}", unit="page", disable=not progress, leave=False):
        pages.append(process_page(path, snap.files[path], resolver, snap.version, latest))
    for page in pages:
        doc_id = _hid(snap.version, page.path)
        area = area_of(page.path)
        docs.append(
            {
                "doc_id": doc_id,
                "version": snap.version,
                "path": page.path,
                "url": page.url,
                "title": page.title,
                "area": area,
                "n_sections": len(page.sections),
                "skipped": page.skipped,
            }
        )
        if page.skipped:
            report.skipped.append((page.path, page.skipped))
            issues.append({"version": snap.version, "path": page.path, "kind": "skipped", "detail": page.skipped})
            log.debug("%s %s: skipped (%s)", snap.version, page.path, page.skipped)
            continue
        kind = "release" if page.is_release_notes else "doc"
        for s in page.sections:
            sid = _hid(snap.version, s.url, s.ordinal)
            sections.append(
                {
                    "section_id": sid,
                    "doc_id": doc_id,
                    "version": snap.version,
                    "path": page.path,
                    "url": s.url,
                    "anchor": s.anchor,
                    "ordinal": s.ordinal,
                    "level": s.level,
                    "title": s.title,
                    "heading_path": s.heading_path,
                    "kind": kind,
                    "area": area,
                    "text": s.text,
                    "code": "\n\n".join(s.code),
                    "n_code_blocks": len(s.code),
                    "release": s.release,
                    "release_date": s.release_date,
                }
            )
            for c in chunk_text(s.text, count, cfg.max_tokens, cfg.min_tokens):
                chunks.append(
                    {
                        "chunk_id": chunk_id(snap.version, s.url, s.anchor, c.ordinal),
                        "section_id": sid,
                        "version": snap.version,
                        "url": s.url,
                        "anchor": s.anchor,
                        "ordinal": c.ordinal,
                        "heading_path": s.heading_path,
                        "kind": kind,
                        "text": c.text,
                        "n_tokens": c.n_tokens,
                    }
                )
        if page.is_release_notes:
            releases.extend(_release_rows(snap.version, page))
    for prob in resolver.problems:
        report.include_problems.append((prob.md_path, prob.ref))
        issues.append({"version": snap.version, "path": prob.md_path, "kind": "include", "detail": prob.reason})
    for bad in snap.undecodable:
        issues.append({"version": snap.version, "path": bad, "kind": "undecodable", "detail": "not UTF-8 / unreadable"})
    report.n_documents = len(docs) - len(report.skipped)
    report.n_sections, report.n_chunks, report.n_releases = len(sections), len(chunks), len(releases)
    report.n_includes = resolver.resolved
    frames = {
        "documents": pd.DataFrame(docs),
        "sections": _with_dates(pd.DataFrame(sections), "release_date"),
        "chunks": pd.DataFrame(chunks),
        "releases": _with_dates(pd.DataFrame(releases), "release_date"),
        "ingest_issues": pd.DataFrame(issues, columns=["version", "path", "kind", "detail"]),
    }
    return frames, report


def _with_dates(df: pd.DataFrame, col: str) -> pd.DataFrame:
    if not df.empty:
        df[col] = pd.to_datetime(df[col], errors="coerce").dt.date
    return df


def _release_rows(version: str, page: Page) -> list[dict[str, object]]:
    """One record per released version: its H2 section plus the H3 subsections (Features, Fixes...)."""
    rows: list[dict[str, object]] = []
    current: dict[str, object] | None = None
    for s in page.sections:
        if s.level == 2:
            current = None
            if s.release:
                current = {
                    "version": version,
                    "release": s.release,
                    "release_date": s.release_date,
                    "url": s.url,
                    "anchor": s.anchor,
                    "text": s.text,
                }
                rows.append(current)
        elif s.level >= 3 and current is not None:
            current["text"] = f"{current['text']}\n\n{s.title}:\n{s.text}".strip()
    seen: set[str] = set()
    unique = []
    for r in rows:  # a release heading repeated in the notes keeps its first record
        if r["release"] not in seen:
            seen.add(str(r["release"]))
            r["n_items"] = sum(1 for line in str(r["text"]).splitlines() if line.lstrip().startswith(("* ", "- ")))
            unique.append(r)
    return unique


def ingest(
    sources: list[str],
    db_path: Path,
    cache_dir: Path,
    chunking: ChunkingSettings,
    latest_version: str | None = None,
    version: str | None = None,
    force: bool = False,
    progress: bool = True,
) -> IngestSummary:
    start = datetime.now(UTC)
    snaps = load_sources(sources, cache_dir, version)
    policy = chunk_policy(chunking)
    with open_store(db_path) as con:
        existing = manifest(con)
        all_versions = sorted({*existing, *(s.version for s in snaps)}, key=version_key)
        latest = latest_version or all_versions[-1]
        for v, row in existing.items():
            if row["is_latest"] and v != latest and v not in {s.version for s in snaps}:
                log.warning(
                    "%s was ingested as the latest version; re-ingest it (--force) so it cites GitHub permalinks", v
                )
        frames: dict[str, list[pd.DataFrame]] = {}
        reports: list[VersionReport] = []
        todo: list[str] = []
        manifests: list[dict[str, object]] = []
        for snap in snaps:
            is_latest = snap.version == latest
            prev = existing.get(snap.version)
            if (
                not force
                and prev is not None
                and prev["content_hash"] == snap.content_hash
                and prev["parser_version"] == PARSER_VERSION
                and prev["chunk_policy"] == policy
                and bool(prev["is_latest"]) == is_latest
            ):
                reports.append(
                    VersionReport(
                        snap.version,
                        snap.origin,
                        status="unchanged",
                        n_files=len(snap.files),
                        n_documents=int(prev["n_documents"]),
                        n_sections=int(prev["n_sections"]),
                        n_chunks=int(prev["n_chunks"]),
                        n_releases=int(prev["n_releases"]),
                    )
                )
                continue
            tables, report = build_frames(snap, is_latest, chunking, progress)
            reports.append(report)
            todo.append(snap.version)
            for name, df in tables.items():
                frames.setdefault(name, []).append(df)
            manifests.append(
                {
                    "version": snap.version,
                    "origin": snap.origin,
                    "content_hash": snap.content_hash,
                    "parser_version": PARSER_VERSION,
                    "chunk_policy": policy,
                    "is_latest": is_latest,
                    "n_files": len(snap.files),
                    "n_documents": report.n_documents,
                    "n_skipped": len(report.skipped),
                    "n_sections": report.n_sections,
                    "n_chunks": report.n_chunks,
                    "n_releases": report.n_releases,
                    "n_includes": report.n_includes,
                    "n_include_problems": len(report.include_problems),
                    "n_undecodable": len(report.undecodable),
                    "ingested_at": datetime.now(UTC).replace(tzinfo=None),
                }
            )
        if todo:
            merged = {
                k: pd.concat([d for d in v if not d.empty], ignore_index=True)
                if any(not d.empty for d in v)
                else pd.DataFrame()
                for k, v in frames.items()
            }
            merged["corpus_manifest"] = pd.DataFrame(manifests)
            replace_versions(con, todo, merged)
    seconds = (datetime.now(UTC) - start).total_seconds()
    return IngestSummary(db_path, reports, seconds)


def corpus_hash(db_path: Path) -> str:
    """One hash naming everything ingested (versions, content, parser, chunk policy): indexes key on it."""
    with open_store(db_path, read_only=True) as con:
        rows = con.execute(
            "SELECT version, content_hash, parser_version, chunk_policy, is_latest FROM corpus_manifest ORDER BY version"
        ).fetchall()
    return _hid(*rows) if rows else ""
