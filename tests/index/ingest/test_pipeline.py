from pathlib import Path

import duckdb
import pytest

from fda.errors import CorpusError, StoreError
from fda.settings import ChunkingSettings
from index.ingest.pipeline import corpus_hash, ingest
from index.ingest.store import open_store

CFG = ChunkingSettings(tokenizer="whitespace", max_tokens=64, min_tokens=0)


def _ingest(src: Path, db: Path, **kw: object) -> object:
    return ingest([str(src)], db, db.parent / "cache", CFG, progress=False, **kw)  # type: ignore[arg-type]


def _rows(db: Path, sql: str) -> list[tuple]:
    with open_store(db, read_only=True) as con:
        return con.execute(sql).fetchall()


def test_ingest_stores_sections_chunks_releases_and_manifest(tiny_dumps: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    summary = _ingest(tiny_dumps, db)
    by_version = {r.version: r for r in summary.reports}  # type: ignore[attr-defined]
    latest = by_version["0.2.0"]
    assert latest.status == "ingested" and latest.n_releases == 2
    assert [p for p, _ in latest.skipped] == ["docs/en/docs/fastapi-people.md", "docs/en/docs/reference/fastapi.md"]
    assert latest.include_problems == [("docs/en/docs/tutorial/broken.md", "../../docs_src/missing/nowhere.py")]

    urls = {u for (u,) in _rows(db, "SELECT url FROM sections WHERE version = '0.2.0'")}
    assert "https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware" in urls
    assert "https://fastapi.tiangolo.com/tutorial/old-style/#response_model-parameter" in urls
    assert {
        "https://fastapi.tiangolo.com/tutorial/old-style/#recap",
        "https://fastapi.tiangolo.com/tutorial/old-style/#recap_1",
    } <= urls
    old = {u for (u,) in _rows(db, "SELECT url FROM sections WHERE version = '0.1.0'")}
    assert "https://github.com/fastapi/fastapi/blob/0.1.0/docs/en/docs/tutorial/cors.md#use-corsmiddleware" in old

    (text, code) = _rows(
        db, "SELECT text, code FROM sections WHERE url LIKE '%cors/#use-corsmiddleware' AND version='0.2.0'"
    )[0]
    assert "app.add_middleware(CORSMiddleware" in text and "Tip: Credentials" in text and "{*" not in text
    assert code.startswith("from fastapi import FastAPI")
    assert _rows(
        db, "SELECT release, release_date::VARCHAR, n_items FROM releases WHERE version='0.2.0' ORDER BY release"
    ) == [("0.1.0", "2024-01-01", 1), ("0.2.0", "2024-02-01", 2)]
    (latest_flag,) = _rows(db, "SELECT is_latest FROM corpus_manifest WHERE version = '0.2.0'")[0]
    assert latest_flag is True


def test_reingest_is_idempotent_same_ids_no_duplicates(tiny_dumps: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _ingest(tiny_dumps, db)
    first = _rows(db, "SELECT chunk_id FROM chunks ORDER BY chunk_id")
    h = corpus_hash(db)
    again = _ingest(tiny_dumps, db)
    assert {r.status for r in again.reports} == {"unchanged"}  # type: ignore[attr-defined]
    _ingest(tiny_dumps, db, force=True)
    assert _rows(db, "SELECT chunk_id FROM chunks ORDER BY chunk_id") == first
    assert _rows(db, "SELECT count(*), count(DISTINCT chunk_id) FROM chunks")[0][0] == len(first)
    assert corpus_hash(db) == h


def test_changed_input_reingests_only_that_version(tiny_dumps: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _ingest(tiny_dumps, db)
    dump = tiny_dumps / "fastapi-0.1.0.jsonl"
    dump.write_text(dump.read_text().replace("Done.", "Done, changed."))
    statuses = {r.version: r.status for r in _ingest(tiny_dumps, db).reports}  # type: ignore[attr-defined]
    assert statuses == {"0.1.0": "ingested", "0.2.0": "unchanged"}


def test_failure_midway_leaves_store_unchanged(
    tiny_dumps: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "s.duckdb"
    _ingest(tiny_dumps, db)
    before = _rows(db, "SELECT count(*) FROM chunks")

    import index.ingest.store as store

    real_register = duckdb.DuckDBPyConnection.register
    calls = {"n": 0}

    def flaky_register(self, name, df):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # an interrupted run, after some tables were written
        return real_register(self, name, df)

    monkeypatch.setattr(store.duckdb.DuckDBPyConnection, "register", flaky_register)
    with pytest.raises(KeyboardInterrupt):
        _ingest(tiny_dumps, db, force=True)
    monkeypatch.undo()
    assert _rows(db, "SELECT count(*) FROM chunks") == before
    assert _rows(db, "SELECT count(*) FROM corpus_manifest")[0][0] == 2


def test_corrupted_store_is_a_clear_error(tiny_dumps: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    db.write_bytes(b"garbage" * 1000)
    with pytest.raises(StoreError, match="delete"):
        _ingest(tiny_dumps, db)


def test_missing_store_for_readers(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="fda ingest"), open_store(tmp_path / "none.duckdb", read_only=True):
        pass


def test_same_version_twice_is_refused(tiny_dumps: Path, tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="given twice"):
        ingest([str(tiny_dumps), str(tiny_dumps / "fastapi-0.2.0.jsonl")], tmp_path / "s.duckdb", tmp_path, CFG)
