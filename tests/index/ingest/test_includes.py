from index.ingest.includes import IncludeResolver, inline_includes, parse_new_ranges, parse_old_ranges

FILES = {
    "docs_src/app/tutorial001_py310.py": "\n".join(f"line{i}" for i in range(1, 11)),
    "docs_src/app/tutorial001_py39.py": "variant that must not be used",
    "docs_src/app/page.html": "<h1>hi</h1>",
}


def _run(lines: list[str]) -> tuple[list[str], IncludeResolver]:
    resolver = IncludeResolver(FILES)
    return inline_includes(lines, "docs/en/docs/x.md", resolver), resolver


def test_new_include_becomes_fenced_code_of_named_file() -> None:
    out, res = _run(["Text", "{* ../../docs_src/app/tutorial001_py310.py hl[2,6:11] *}", "After"])
    assert out[1] == "```python" and out[-2] == "```"
    assert "line1" in out and "line10" in out
    assert "variant that must not be used" not in "\n".join(out)
    assert res.resolved == 1 and not res.problems


def test_new_include_ln_slices_ranges() -> None:
    out, _ = _run(["{* ../../docs_src/app/tutorial001_py310.py ln[2:3,9:9] hl[2] *}"])
    assert out == ["```python", "line2", "line3", "...", "line9", "```"]


def test_old_include_fills_its_fence_and_old_ln() -> None:
    out, _ = _run(['```Python hl_lines="2"', "{!../../../docs_src/app/tutorial001_py310.py[ln:4-5]!}", "```"])
    assert out == ['```Python hl_lines="2"', "line4", "line5", "```"]


def test_old_variant_marker_and_bare_include_outside_fence() -> None:
    out, _ = _run(["```Python", "{!> ../../../docs_src/app/page.html!}", "```", "{!../../docs_src/app/page.html!}"])
    assert out[1] == "<h1>hi</h1>"
    assert out[3:] == ["```html", "<h1>hi</h1>", "```"]


def test_indented_include_keeps_indent() -> None:
    out, _ = _run(["    {* ../../docs_src/app/page.html *}"])
    assert out == ["    ```html", "    <h1>hi</h1>", "    ```"]


def test_missing_include_warns_keeps_placeholder_and_counts() -> None:
    out, res = _run(["{* ../../fastapi/openapi/docs.py ln[9:24] *}"])
    assert "not available" in "\n".join(out)
    assert len(res.problems) == 1 and res.problems[0].ref == "../../fastapi/openapi/docs.py"
    assert res.resolved == 0


def test_includes_inside_other_fences_are_not_new_includes() -> None:
    out, res = _run(["```markdown", "{* ../../docs_src/app/page.html *}", "```"])
    assert out[1] == "{* ../../docs_src/app/page.html *}" and res.resolved == 0


def test_range_parsers() -> None:
    assert parse_new_ranges(" ln[1:9,29:35] hl[9]") == [(1, 9), (29, 35)]
    assert parse_new_ranges(" hl[9]") is None
    assert parse_old_ranges("7-13") == [(7, 13)]
    assert parse_old_ranges(None) is None
