import pytest

from index.ingest.chunking import chunk_id, chunk_text, split_blocks, whitespace_counter


def test_short_section_is_one_chunk() -> None:
    chunks = chunk_text("one two three", whitespace_counter, max_tokens=10, min_tokens=0)
    assert [(c.ordinal, c.text, c.n_tokens) for c in chunks] == [(0, "one two three", 3)]


def test_empty_text_has_no_chunks() -> None:
    assert chunk_text("  \n", whitespace_counter, 10, 0) == []


def test_long_section_splits_at_paragraphs_within_budget() -> None:
    text = "\n\n".join(" ".join(f"w{p}_{i}" for i in range(6)) for p in range(5))  # 5 paragraphs x 6 words
    chunks = chunk_text(text, whitespace_counter, max_tokens=13, min_tokens=0)
    assert len(chunks) == 3 and all(c.n_tokens <= 13 for c in chunks)
    assert " ".join(c.text for c in chunks).split() == text.split()  # nothing lost, order kept


def test_code_block_kept_whole_when_it_fits_and_split_fenced_when_not() -> None:
    code = "```python\n" + "\n".join(f"x{i} = {i}" for i in range(12)) + "\n```"
    assert split_blocks("Para.\n\n" + code) == ["Para.", code]
    chunks = chunk_text("Para.\n\n" + code, whitespace_counter, max_tokens=10, min_tokens=0)
    assert all(c.n_tokens <= 10 for c in chunks)
    assert len(chunks) > 2
    assert all(c.text.count("```") % 2 == 0 for c in chunks)  # every code piece is fenced
    joined = "\n".join(c.text for c in chunks)
    assert all(f"x{i} = {i}" in joined for i in range(12))


def test_single_huge_line_is_cut() -> None:
    chunks = chunk_text("intro\n\n" + "tok " * 50, whitespace_counter, max_tokens=12, min_tokens=0)
    assert all(c.n_tokens <= 12 for c in chunks)


def test_short_tail_merges_into_previous() -> None:
    text = " ".join(["a"] * 10) + "\n\n" + " ".join(["b"] * 10) + "\n\nend"
    chunks = chunk_text(text, whitespace_counter, max_tokens=10, min_tokens=3)
    assert len(chunks) == 2 and chunks[-1].text.endswith("end")


@pytest.mark.parametrize("ordinal", [0, 1, 7])
def test_chunk_id_stable_and_distinct(ordinal: int) -> None:
    a = chunk_id("0.1.0", "https://x/#a", "a", ordinal)
    assert a == chunk_id("0.1.0", "https://x/#a", "a", ordinal)
    assert a != chunk_id("0.2.0", "https://x/#a", "a", ordinal)
    assert len(a) == 16


def test_minilm_counter_counts_wordpieces() -> None:
    from index.ingest.chunking import minilm_counter

    assert minilm_counter(["CORSMiddleware"])[0] > 1  # split into word pieces, no [CLS]/[SEP]
    assert minilm_counter(["hello"]) == [1]
