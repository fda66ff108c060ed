"""The real corpus (../shared/corpus): includes resolve, anchors and URLs match the published site."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.ingest.pipeline import IngestSummary
from index.ingest.store import open_store

pytestmark = pytest.mark.corpus

# The two includes the corpus README says cannot resolve (they point at the library, not docs_src).
KNOWN_UNRESOLVED = {
    ("0.141.1", "docs/en/docs/how-to/configure-swagger-ui.md", "../../fastapi/openapi/docs.py"),
    ("0.100.0", "docs/en/docs/advanced/extending-openapi.md", "../../../fastapi/openapi/docs.py"),
}

# URL#anchor -> heading, checked by hand against fastapi.tiangolo.com (latest) and GitHub (older tags).
HAND_CHECKED = {
    "https://fastapi.tiangolo.com/#fastapi": "FastAPI",
    "https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware": "Use CORSMiddleware",
    "https://fastapi.tiangolo.com/tutorial/dependencies/#what-is-dependency-injection": 'What is "Dependency Injection"',
    "https://fastapi.tiangolo.com/tutorial/dependencies/#create-a-dependency-or-dependable": 'Create a dependency, or "dependable"',
    "https://fastapi.tiangolo.com/tutorial/background-tasks/#using-backgroundtasks": "Using BackgroundTasks",
    "https://fastapi.tiangolo.com/advanced/sub-applications/#mounting-a-fastapi-application": "Mounting a FastAPI application",
    "https://fastapi.tiangolo.com/tutorial/bigger-applications/#apirouter": "APIRouter",
    "https://fastapi.tiangolo.com/tutorial/response-model/#response-model-parameter": "response_model Parameter",
    "https://fastapi.tiangolo.com/tutorial/security/simple-oauth2/#get-the-username-and-password": "Get the username and password",
    "https://fastapi.tiangolo.com/advanced/events/#lifespan": "Lifespan",
    "https://fastapi.tiangolo.com/tutorial/middleware/#create-a-middleware": "Create a middleware",
    "https://fastapi.tiangolo.com/release-notes/#01411-2026-07-29": "0.141.1 (2026-07-29)",
    "https://fastapi.tiangolo.com/release-notes/#0950-2023-03-18": "0.95.0 (2023-03-18)",
    "https://fastapi.tiangolo.com/tutorial/testing/#using-testclient": "Using TestClient",
    "https://fastapi.tiangolo.com/advanced/settings/#pydantic-settings": "Pydantic Settings",
    "https://fastapi.tiangolo.com/tutorial/query-params-str-validations/#add-regular-expressions": "Add regular expressions",
    "https://fastapi.tiangolo.com/deployment/docker/#dockerfile": "Dockerfile",
    "https://fastapi.tiangolo.com/advanced/additional-status-codes/#additional-status-codes_1": "Additional status codes",
    "https://fastapi.tiangolo.com/how-to/configure-swagger-ui/#configure-swagger-ui": "Configure Swagger UI",
    "https://github.com/fastapi/fastapi/blob/0.100.0/docs/en/docs/tutorial/response-model.md#response_model-parameter": "response_model Parameter",
    "https://github.com/fastapi/fastapi/blob/0.68.0/docs/en/docs/advanced/events.md#startup-event": "startup event",
    "https://github.com/fastapi/fastapi/blob/0.68.0/docs/en/docs/tutorial/cors.md#use-corsmiddleware": "Use CORSMiddleware",
    "https://github.com/fastapi/fastapi/blob/0.100.0/docs/en/docs/advanced/events.md#lifespan": "Lifespan",
    "https://github.com/fastapi/fastapi/blob/0.100.0/docs/en/docs/release-notes.md#0950": "0.95.0",
    "https://github.com/fastapi/fastapi/blob/0.68.0/docs/en/docs/tutorial/dependencies/index.md#what-is-dependency-injection": 'What is "Dependency Injection"',
    "https://github.com/fastapi/fastapi/blob/0.100.0/docs/en/docs/tutorial/query-params-str-validations.md#add-regular-expressions": "Add regular expressions",
}


def test_three_versions_and_only_known_includes_unresolved(real_store: tuple[Path, IngestSummary]) -> None:
    _, summary = real_store
    assert sorted(r.version for r in summary.reports) == ["0.100.0", "0.141.1", "0.68.0"]
    unresolved = {(r.version, md, ref) for r in summary.reports for md, ref in r.include_problems}
    assert unresolved == KNOWN_UNRESOLVED
    assert all(r.n_includes > 300 for r in summary.reports)
    assert all(not r.undecodable for r in summary.reports)


def test_hand_checked_anchors_match_the_site(real_store: tuple[Path, IngestSummary]) -> None:
    db, _ = real_store
    with open_store(db, read_only=True) as con:
        found = dict(
            con.execute(
                "SELECT url, title FROM sections WHERE url IN (SELECT unnest(?))", [list(HAND_CHECKED)]
            ).fetchall()
        )
    assert found == HAND_CHECKED


def test_no_markup_leaks_into_text(real_store: tuple[Path, IngestSummary]) -> None:
    db, _ = real_store
    with open_store(db, read_only=True) as con:
        leaks = con.execute(
            r"""SELECT url FROM sections WHERE regexp_matches(text, '(\{\* +\.\./|\{!>? *\.\./|^///|^!!! |^=== "|\{%|<abbr|<dfn|class="termy")', 'm')"""
        ).fetchall()
    assert leaks == []


def test_chunks_fit_the_budget_and_ids_are_unique(real_store: tuple[Path, IngestSummary]) -> None:
    db, _ = real_store
    with open_store(db, read_only=True) as con:
        n, distinct, too_big = con.execute(
            "SELECT count(*), count(DISTINCT chunk_id), count(*) FILTER (WHERE n_tokens > 256) FROM chunks"
        ).fetchone()
        dup_urls = con.execute("SELECT url FROM sections GROUP BY version, url HAVING count(*) > 1").fetchall()
    assert n == distinct and n > 5000
    assert too_big / n < 0.01  # merged short tails may run slightly over; nearly all fit MiniLM's window
    assert dup_urls == []


def test_release_notes_split_per_version_with_dates(real_store: tuple[Path, IngestSummary]) -> None:
    db, _ = real_store
    with open_store(db, read_only=True) as con:
        row = con.execute(
            "SELECT release_date::VARCHAR, text FROM releases WHERE version='0.141.1' AND release='0.95.0'"
        ).fetchone()
        counts = dict(con.execute("SELECT version, count(*) FROM releases GROUP BY version").fetchall())
    assert row is not None and row[0] == "2023-03-18" and "Annotated" in row[1]
    assert counts["0.141.1"] > counts["0.100.0"] > counts["0.68.0"] > 100


def test_skipped_pages_have_reasons(real_store: tuple[Path, IngestSummary]) -> None:
    _, summary = real_store
    latest = next(r for r in summary.reports if r.version == "0.141.1")
    skipped = dict(latest.skipped)
    assert "docs/en/docs/fastapi-people.md" in skipped and "docs/en/docs/reference/fastapi.md" in skipped
    assert "docs/en/docs/tutorial/cors.md" not in skipped
    assert all(reason for reason in skipped.values())
