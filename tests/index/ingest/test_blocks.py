from index.ingest.blocks import convert_blocks, variant_key


def test_new_admonition_with_title() -> None:
    out = convert_blocks(["/// tip | Use it wisely", "", "Body text.", "", "///", "After"])
    text = "\n".join(out)
    assert "Tip: Use it wisely" in text and "Body text." in text and "///" not in text
    assert out[-1] == "After"


def test_new_tabs_drop_python_version_variants_keep_different_content() -> None:
    lines = [
        "//// tab | Python 3.10+",
        "```Python",
        "a: Annotated[int, Depends(f)]",
        "```",
        "////",
        "",
        "//// tab | Python 3.9+",
        "```Python",
        "a: Annotated[int, Depends(f)]  # 3.9",
        "```",
        "////",
        "",
        "//// tab | Python 3.10+ non-Annotated",
        "",
        "/// tip",
        "",
        "Prefer Annotated.",
        "",
        "///",
        "",
        "```Python",
        "a: int = Depends(f)",
        "```",
        "////",
    ]
    text = "\n".join(convert_blocks(lines))
    assert "Python 3.10+:" in text and "# 3.9" not in text
    assert "Python 3.10+ non-Annotated:" in text and "a: int = Depends(f)" in text
    assert "Tip:" in text and "Prefer Annotated." in text and "////" not in text


def test_old_admonition_indented_body_is_dedented() -> None:
    out = convert_blocks(
        ['!!! note "Technical Details"', "    You could also use `x`.", "", "    More.", "", "Outside"]
    )
    assert out[0] == "Note: Technical Details"
    assert "You could also use `x`." in out and "More." in out and out[-1] == "Outside"


def test_old_admonition_without_title_and_collapsible() -> None:
    assert convert_blocks(["!!! warning", "    Careful."])[:2] == ["Warning:", "Careful."]
    assert convert_blocks(['???+ info "Details"', "    Hidden."])[:2] == ["Info: Details", "Hidden."]


def test_old_tabs_group_and_nested_admonition() -> None:
    lines = [
        '=== "Python 3.10+"',
        "",
        "    ```Python",
        "    x = 1",
        "    ```",
        "",
        '=== "Python 3.6+"',
        "",
        "    ```Python",
        "    x = 1  # 3.6",
        "    ```",
        "",
        '=== "Python 3.6+ non-Annotated"',
        "",
        "    !!! tip",
        "        Prefer Annotated.",
        "",
        "    ```Python",
        "    x = Depends()",
        "    ```",
        "",
        "After",
    ]
    text = "\n".join(convert_blocks(lines))
    assert "x = 1" in text and "# 3.6" not in text
    assert "Tip:" in text and "Prefer Annotated." in text and "x = Depends()" in text
    assert text.rstrip().endswith("After")


def test_non_variant_tabs_all_kept() -> None:
    lines = ['=== "Linux, macOS"', "    export A=1", "", '=== "Windows PowerShell"', "    $Env:A=1"]
    text = "\n".join(convert_blocks(lines))
    assert "Linux, macOS:" in text and "export A=1" in text and "$Env:A=1" in text


def test_markers_inside_code_fences_are_left_alone() -> None:
    lines = ["```", "/// tip", "!!! note", "```"]
    assert convert_blocks(lines) == lines


def test_variant_key() -> None:
    assert variant_key("Python 3.10+") == variant_key("Python 3.6+") == ""
    assert variant_key("Python 3.10+ non-Annotated") == "non-annotated"
