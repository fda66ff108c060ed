from pathlib import Path

import pytest

from fda.errors import CorpusError
from index.ingest.sources import load_sources, read_dump, version_key


def test_dump_folder_reads_every_version(tiny_dumps: Path, tmp_path: Path) -> None:
    snaps = load_sources([str(tiny_dumps)], tmp_path)
    assert sorted(s.version for s in snaps) == ["0.1.0", "0.2.0"]
    assert all("docs/en/docs/tutorial/cors.md" in s.files for s in snaps)


def test_checkout_and_tarball_give_the_same_content(tiny_checkout: Path, tiny_tarball: Path, tmp_path: Path) -> None:
    (checkout,) = load_sources([str(tiny_checkout)], tmp_path)
    (tarball,) = load_sources([str(tiny_tarball)], tmp_path)
    assert checkout.version == tarball.version == "0.2.0"
    assert checkout.content_hash == tarball.content_hash


def test_missing_path_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_sources([str(tmp_path / "nope")], tmp_path)


def test_folder_that_is_not_a_docs_tree(tmp_path: Path) -> None:
    (tmp_path / "random").mkdir()
    (tmp_path / "random" / "notes.txt").write_text("hi")
    with pytest.raises(CorpusError, match="not a FastAPI docs tree"):
        load_sources([str(tmp_path / "random")], tmp_path)


def test_dump_without_markdown_is_not_a_docs_tree(tmp_path: Path) -> None:
    dump = tmp_path / "fastapi-1.0.0.jsonl"
    dump.write_text('{"path": "README.md", "text": "x"}\n')
    with pytest.raises(CorpusError, match="not a FastAPI docs tree"):
        read_dump(dump)


def test_undecodable_lines_and_files_are_counted_not_fatal(
    tiny_dumps: Path, tiny_checkout: Path, tmp_path: Path
) -> None:
    dump = tiny_dumps / "fastapi-0.2.0.jsonl"
    dump.write_bytes(dump.read_bytes() + b"\xff\xfe not json\n")
    snap = read_dump(dump)
    assert snap.undecodable == ["fastapi-0.2.0.jsonl:10"] and snap.md_paths
    (tiny_checkout / "docs/en/docs/latin1.md").write_bytes("# Caf\xe9\n".encode("latin-1"))
    (checkout,) = load_sources([str(tiny_checkout)], tmp_path)
    assert checkout.undecodable == ["docs/en/docs/latin1.md"]


def test_version_cannot_be_told(tmp_path: Path) -> None:
    dump = tmp_path / "docs.jsonl"
    dump.write_text('{"path": "docs/en/docs/a.md", "text": "# A"}\n')
    with pytest.raises(CorpusError, match="release tag"):
        load_sources([str(dump)], tmp_path)
    assert load_sources([str(dump)], tmp_path, version="9.9.9")[0].version == "9.9.9"


def test_bad_github_spec_and_unknown_file_type(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="github:OWNER/REPO@TAG"):
        load_sources(["github:nonsense"], tmp_path)
    weird = tmp_path / "docs.zip"
    weird.write_bytes(b"PK")
    with pytest.raises(CorpusError, match="unknown source type"):
        load_sources([str(weird)], tmp_path)


def test_corrupt_tarball(tmp_path: Path) -> None:
    bad = tmp_path / "fastapi-0.3.0.tar.gz"
    bad.write_bytes(b"not a tarball")
    with pytest.raises(CorpusError, match="not a readable tar archive"):
        load_sources([str(bad)], tmp_path)


def test_version_key_orders_numerically() -> None:
    assert sorted(["0.100.0", "0.68.0", "0.141.1", "0.9.1"], key=version_key) == [
        "0.9.1",
        "0.68.0",
        "0.100.0",
        "0.141.1",
    ]
