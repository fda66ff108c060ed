from index.ingest.sections import split_sections

PAGE = "https://fastapi.tiangolo.com/tutorial/x/"


def test_sections_anchor_urls_and_heading_paths() -> None:
    lines = [
        "# Title { #title }",
        "Intro.",
        "## Part `A` { #part-a }",
        "Text A.",
        "### Sub",
        "Sub text.",
        "## Part B",
        "B.",
    ]
    secs = split_sections(lines, PAGE)
    assert [s.anchor for s in secs] == ["title", "part-a", "sub", "part-b"]
    assert secs[1].url == PAGE + "#part-a" and secs[1].title == "Part A"
    assert secs[2].heading_path == ["Title", "Part A", "Sub"]
    assert secs[3].heading_path == ["Title", "Part B"]
    assert [s.ordinal for s in secs] == [0, 1, 2, 3]


def test_hash_lines_in_code_are_not_headings() -> None:
    secs = split_sections(["# T", "```python", "# a comment", "x = 1", "```"], PAGE)
    assert len(secs) == 1 and "# a comment" in secs[0].text and secs[0].code == ["# a comment\nx = 1"]


def test_release_notes_carry_version_and_date() -> None:
    lines = [
        "# Release Notes",
        "## Latest Changes",
        "## 0.95.0 (2023-03-18)",
        "### Features",
        "* Annotated.",
        "## 0.94.1",
        "* Fix.",
    ]
    secs = split_sections(lines, PAGE, release_notes=True)
    by_title = {s.title: s for s in secs}
    assert by_title["Features"].release == "0.95.0" and by_title["Features"].release_date == "2023-03-18"
    assert by_title["0.94.1"].release == "0.94.1" and by_title["0.94.1"].release_date is None
    assert by_title["Latest Changes"].release is None
    assert by_title["0.95.0 (2023-03-18)"].anchor == "0950-2023-03-18"
