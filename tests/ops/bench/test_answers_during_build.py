"""ops/bench/answers_during_build.py: the index copy every run starts from."""

from __future__ import annotations

import json
from pathlib import Path

from ops.bench.answers_during_build import prepare_indexes


def _index(root: Path, name: str, versions: list[str]) -> None:
    folder = root / name
    for v in versions:
        (folder / v).mkdir(parents=True)
        (folder / v / "vectors.npy").write_bytes(b"x")
    manifest = {"latest": versions[-1], "versions": {v: {"chunks": 1} for v in versions}}
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_the_rebuilt_index_keeps_only_its_latest_version_and_the_rest_is_copied_whole(tmp_path: Path) -> None:
    source, dest = tmp_path / "src", tmp_path / "dest"
    _index(source, "dense-abc", ["0.68.0", "0.100.0", "0.141.1"])
    _index(source, "bm25-def", ["0.68.0", "0.141.1"])
    (source / "dense-abc.lock").write_text("")  # lock files are not index folders
    dest.mkdir()
    prepare_indexes(source, dest, "dense", drop_versions=True)
    dense = json.loads((dest / "dense-abc" / "manifest.json").read_text())
    assert list(dense["versions"]) == ["0.141.1"] and dense["latest"] == "0.141.1"
    assert sorted(p.name for p in (dest / "dense-abc").iterdir()) == ["0.141.1", "manifest.json"]
    assert sorted(p.name for p in (dest / "bm25-def").iterdir()) == ["0.141.1", "0.68.0", "manifest.json"]
    assert not (dest / "dense-abc.lock").exists()
    assert len(json.loads((source / "dense-abc" / "manifest.json").read_text())["versions"]) == 3  # untouched
    idle = tmp_path / "idle"
    idle.mkdir()
    prepare_indexes(source, idle, "dense", drop_versions=False)
    assert len(json.loads((idle / "dense-abc" / "manifest.json").read_text())["versions"]) == 3
