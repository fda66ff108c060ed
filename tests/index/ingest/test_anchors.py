import pytest

from index.ingest.anchors import AnchorAllocator, page_slug, page_url, split_heading_id, toc_slugify


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("0.141.1 (2026-07-29)", "01411-2026-07-29"),
        ("`response_model` Parameter", "response_model-parameter"),
        ("Use `CORSMiddleware`", "use-corsmiddleware"),
        ('What is "Dependency Injection"', "what-is-dependency-injection"),
        ("**FastAPI** and [Pydantic](https://docs.pydantic.dev)", "fastapi-and-pydantic"),
        ("Recap 🚀", "recap"),
        ('Café über <abbr title="x">API</abbr>', "cafe-uber-api"),
        ("Multiple   spaces -- and dashes", "multiple-spaces-and-dashes"),
    ],
)
def test_toc_slugify(title: str, slug: str) -> None:
    assert toc_slugify(title) == slug


def test_split_heading_id() -> None:
    assert split_heading_id("Use `CORSMiddleware` { #use-corsmiddleware }") == (
        "Use `CORSMiddleware`",
        "use-corsmiddleware",
    )
    assert split_heading_id("No id here") == ("No id here", None)


def test_allocator_dedupes_auto_slugs_only_after_use() -> None:
    alloc = AnchorAllocator()
    assert alloc.allocate("Technical Details", None) == "technical-details"
    assert alloc.allocate("Technical Details", None) == "technical-details_1"
    assert alloc.allocate("Technical Details", None) == "technical-details_2"
    assert alloc.allocate("Anything", "custom-id") == "custom-id"
    assert alloc.allocate("Custom id", None) == "custom-id_1"


@pytest.mark.parametrize(
    ("path", "slug"),
    [
        ("docs/en/docs/index.md", ""),
        ("docs/en/docs/tutorial/cors.md", "tutorial/cors/"),
        ("docs/en/docs/tutorial/dependencies/index.md", "tutorial/dependencies/"),
        ("docs/en/docs/release-notes.md", "release-notes/"),
    ],
)
def test_page_slug(path: str, slug: str) -> None:
    assert page_slug(path) == slug


def test_page_url_latest_vs_older() -> None:
    assert (
        page_url("docs/en/docs/tutorial/cors.md", "0.141.1", latest=True)
        == "https://fastapi.tiangolo.com/tutorial/cors/"
    )
    assert (
        page_url("docs/en/docs/tutorial/cors.md", "0.68.0", latest=False)
        == "https://github.com/fastapi/fastapi/blob/0.68.0/docs/en/docs/tutorial/cors.md"
    )
