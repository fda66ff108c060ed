"""programs/tools/docs.py over the real ingested corpus (corpus tier): every tool returns sections of the store
(URLs that resolve, in the asked version), within its budget; bad input gets a typed error that says what to do.
The retriever is a small word-match fake over the same store, so these tests pin the tools, not a ranking."""

from __future__ import annotations

from typing import Any

import pytest

from fda.errors import InvalidQuestionError, SectionNotFoundError, UnknownVersionError
from programs.tools.docs import DocsTools, version_key

pytestmark = pytest.mark.corpus


def test_versions_sorted_by_number_and_latest(tools: DocsTools) -> None:
    assert tools.versions == sorted(tools.versions, key=version_key)
    assert tools.latest == "0.141.1" and "0.68.0" in tools.versions


def test_search_docs_one_hit_per_section_within_budget(tools: DocsTools, urls: set[str]) -> None:
    hits = tools.search_docs("CORSMiddleware origins", k=3, max_chars=600)
    assert 1 <= len(hits) <= 3
    assert len({h.url for h in hits}) == len(hits)
    assert all(h.url in urls and h.version == "0.141.1" for h in hits)
    assert sum(len(h.snippet) for h in hits) <= 600 + 3 * 5  # shared budget (plus the cut marks)
    old = tools.search_docs("CORSMiddleware origins", version="0.68.0", k=2)
    assert old and all(h.version == "0.68.0" and "/blob/0.68.0/" in h.url for h in old)


def test_read_section_by_url_by_chunk_id_and_in_another_version(tools: DocsTools, urls: set[str]) -> None:
    url = "https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware"
    section = tools.read_section(url)
    assert section.url == url and "CORSMiddleware" in section.text and not section.truncated
    short = tools.read_section(url, max_chars=200)
    assert short.truncated and len(short.text) <= 202
    old = tools.read_section(url, version="0.68.0")
    assert old.version == "0.68.0" and old.url.endswith("/tutorial/cors.md#use-corsmiddleware") and old.url in urls
    con = tools._con.cursor()
    chunk_id = con.execute("SELECT chunk_id FROM chunks WHERE url = ? LIMIT 1", [url]).fetchone()[0]
    assert tools.read_section(chunk_id).url == url


def test_read_section_of_a_section_with_code_shows_the_code(tools: DocsTools) -> None:
    section = tools.read_section("https://fastapi.tiangolo.com/tutorial/background-tasks/#create-a-task-function")
    assert "```python" in section.text


@pytest.mark.parametrize("ref", ["nope", "https://fastapi.tiangolo.com/tutorial/cors/#no-such-anchor", ""])
def test_read_section_unknown_says_what_to_use(tools: DocsTools, ref: str) -> None:
    with pytest.raises(SectionNotFoundError) as err:
        tools.read_section(ref)
    assert "search_docs" in str(err.value)


def test_unknown_version_lists_the_ingested_ones(tools: DocsTools) -> None:
    with pytest.raises(UnknownVersionError) as err:
        tools.search_docs("cors", version="9.9.9")
    assert "0.68.0" in str(err.value) and "0.141.1" in str(err.value)


def test_compare_versions_pairs_the_same_section_and_lists_release_notes(tools: DocsTools, urls: set[str]) -> None:
    out = tools.compare_versions("query parameter regex", "0.100.0", "0.68.0")  # order does not matter
    assert (out.from_version, out.to_version) == ("0.68.0", "0.100.0")
    assert out.before is not None and out.after is not None
    assert out.before.version == "0.68.0" and out.after.version == "0.100.0"
    assert out.before.url in urls and out.after.url in urls
    assert out.diff.startswith("--- docs 0.68.0") or out.diff == ""
    assert all(version_key("0.68.0") < version_key(n.release) <= version_key("0.100.0") for n in out.release_notes)
    assert all(n.url in urls for n in out.release_notes)


def test_find_related_docs_parent_children_same_page(tools: DocsTools, urls: set[str]) -> None:
    related = tools.find_related_docs("https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware")
    relations = {r.relation for r in related}
    assert {"parent", "child", "same page"} <= relations
    parent = next(r for r in related if r.relation == "parent")
    assert parent.url == "https://fastapi.tiangolo.com/tutorial/cors/#cors-cross-origin-resource-sharing"
    assert all(r.url in urls for r in related)
    assert "https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware" not in {r.url for r in related}


def test_check_deprecations_finds_release_notes_and_docs(tools: DocsTools, urls: set[str]) -> None:
    found = tools.check_deprecations("regex", version="0.100.0")
    notes = [d for d in found if d.source == "release notes"]
    assert any(d.release == "0.100.0" and "pattern" in d.text for d in notes)
    assert all(version_key(d.release or "0") <= version_key("0.100.0") for d in notes)
    assert all(d.url in urls for d in found)
    # asked about 0.68.0: nothing from a later release (0.100.0 deprecated `regex`), docs text from 0.68.0
    old = tools.check_deprecations("regex", version="0.68.0")
    assert not any(d.release == "0.100.0" for d in old)
    assert all(version_key(d.release) <= version_key("0.68.0") for d in old if d.release)
    assert all(d.version == "0.68.0" for d in old if d.source == "docs")
    assert tools.check_deprecations("zzzqqqxxx") == []


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda t: t.read_section("../../../../etc/passwd"), SectionNotFoundError),  # no file is ever opened
        (lambda t: t.read_section("file:///etc/passwd"), SectionNotFoundError),
        (lambda t: t.read_section("' OR 1=1 --"), SectionNotFoundError),  # parameters, not SQL text
        (lambda t: t.find_related_docs("https://evil.example/#x"), SectionNotFoundError),
        (lambda t: t.search_docs("   "), InvalidQuestionError),
        (lambda t: t.search_docs("cors \ud800"), InvalidQuestionError),  # a lone surrogate
        (lambda t: t.compare_versions("cors", "0.68.0", "../0.100.0"), UnknownVersionError),
        (lambda t: t.check_deprecations("", version="0.68.0"), InvalidQuestionError),
    ],
)
def test_hostile_input_gets_a_typed_error(tools: DocsTools, call: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        call(tools)


def test_huge_or_odd_input_stays_within_budget(tools: DocsTools) -> None:
    hits = tools.search_docs("cors " * 5000, k=500, max_chars=200)  # k is capped, the query cut, the budget kept
    assert 1 <= len(hits) <= 5  # fewer hits rather than unreadable snippets (40 characters each at least)
    assert sum(len(h.snippet) for h in hits) <= 200 + 2 * len(hits)  # plus the cut marks
    found = tools.check_deprecations("regex", max_chars=300)
    assert found and sum(len(d.text) for d in found) <= 300 + 2 * len(found)
    compared = tools.compare_versions("lifespan events", "0.68.0", "0.141.1", max_chars=600)
    assert sum(len(n.text) for n in compared.release_notes) <= 402


@pytest.mark.parametrize("pattern", ["%", "()", "``", "_"])
def test_a_deprecation_topic_of_only_wildcards_or_punctuation_is_refused(tools: DocsTools, pattern: str) -> None:
    with pytest.raises(InvalidQuestionError):
        tools.check_deprecations(pattern)


def test_a_deprecation_said_in_the_heading_or_the_paragraph_counts(tools: DocsTools) -> None:
    # the docs say "deprecated" in the section heading "Alternative Events (deprecated)", not on the on_event line
    found = tools.check_deprecations("on_event")
    assert any(d.source == "docs" and "(deprecated)" in d.title and "@app.on_event" in d.text for d in found)


def test_like_wildcards_in_a_name_are_text(tools: DocsTools) -> None:
    # "_" matched any one character before: "on_event" must match the name, not "on event" or "onXevent"
    assert all("on_event" in d.text.lower() for d in tools.check_deprecations("on_event"))


def test_a_version_in_the_topic_is_not_cut_like_a_dotted_name(tools: DocsTools) -> None:
    # "Python 3.7" once matched every line holding a "7" (its "last dotted part")
    assert all("3.7" in d.text.lower() for d in tools.check_deprecations("Python 3.7"))
    # a dotted API name is also found by its last part
    found = tools.check_deprecations("fastapi.middleware.wsgi.WSGIMiddleware")
    assert any(d.source == "docs" and "WSGIMiddleware" in d.text for d in found)
