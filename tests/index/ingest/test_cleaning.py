from index.ingest.cleaning import clean_body, clean_prose, drop_directives, strip_front_matter, strip_jinja


def test_front_matter_removed() -> None:
    assert strip_front_matter("---\nhide:\n  - navigation\n---\n# Title\n") == "# Title\n"
    assert strip_front_matter("# Title\n---\n") == "# Title\n---\n"


def test_jinja_removed() -> None:
    assert strip_jinja("a {% for u in people %}{{ u.login }}{% endfor %} b") == "a  b"


def test_abbr_dfn_links_and_tags_to_text() -> None:
    text = clean_prose(
        'A <abbr title="Cross-Origin Resource Sharing">CORS</abbr> and <dfn title="endpoints">path operations</dfn>, '
        'see <a href="https://x.org" class="external-link" target="_blank">docs</a> and [the guide](../guide.md#a) '
        "![img](a.png) **bold** &amp; <small>small</small>"
    )
    assert (
        text
        == "A CORS (Cross-Origin Resource Sharing) and path operations (endpoints), see docs and the guide  bold & small"
    )


def test_termy_console_keeps_text_drops_colour_tags() -> None:
    lines = ['<div class="termy">', "", "```console", '$ <font color="#4E9A06">fastapi</font> dev', "```", "", "</div>"]
    text, codes = clean_body(lines)
    assert "termy" not in text and "<font" not in text and "$ fastapi dev" in text
    assert codes == ["$ fastapi dev"]


def test_code_fence_options_dropped_and_code_collected() -> None:
    text, codes = clean_body(["Intro:", '```Python hl_lines="2"', "x = '<b>'", "```"])
    assert text == "Intro:\n\n```python\nx = '<b>'\n```"
    assert codes == ["x = '<b>'"]  # tags in real code are code


def test_html_include_keeps_its_tags() -> None:
    text, _ = clean_body(["```html", '<span class="x">{{ id }}</span>', "```"])
    assert '<span class="x">' in text


def test_directives_dropped_and_counted() -> None:
    out, n = drop_directives(["# Ref", "::: fastapi.FastAPI", "    options:", "        members:", "", "Text"])
    assert out == ["# Ref", "Text"] and n == 1
