import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from fda.errors import LMError, LMUnavailableError
from fda.lm.assemble import assemble, find_part, locate_parts, marker_ok, status
from fda.lm.registry import ModelSpec, PartRef

MakeParts = Callable[..., ModelSpec]
CHUNKS = [b"GGUF" + b"a" * 1000, b"b" * 777, b"c" * 5]


def test_assembles_parts_in_order_and_records_a_marker(make_parts: MakeParts, tmp_path: Path) -> None:
    spec = make_parts(CHUNKS)
    out = assemble(spec, tmp_path / "models")
    assert out == tmp_path / "models" / "fake-model.gguf"
    assert out.read_bytes() == b"".join(CHUNKS)
    assert marker_ok(spec, out)
    assert not out.with_name(out.name + ".part").exists()


def test_second_call_is_a_stat_not_a_copy(make_parts: MakeParts, tmp_path: Path) -> None:
    spec = make_parts(CHUNKS)
    out = assemble(spec, tmp_path)
    before = out.stat().st_mtime_ns
    for path in locate_parts(spec):  # with the parts gone, only the marker can satisfy the call
        shutil.rmtree(path.parent.parent)
    assert assemble(spec, tmp_path) == out
    assert out.stat().st_mtime_ns == before


def test_hash_mismatch_leaves_no_file_behind(make_parts: MakeParts, tmp_path: Path) -> None:
    spec = make_parts(CHUNKS, sha256="0" * 64)
    with pytest.raises(LMError, match="sha256") as info:
        assemble(spec, tmp_path / "models")
    assert "force-reinstall" in info.value.hint
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [".fake-model.lock"]


def test_missing_part_names_the_package_and_the_fix(make_parts: MakeParts, tmp_path: Path) -> None:
    spec = make_parts(CHUNKS)
    broken = ModelSpec(
        **{**spec.__dict__, "parts": (*spec.parts, PartRef("fake-gone", "9.9", "fdafake_not_installed"))}
    )
    with pytest.raises(LMUnavailableError, match="1 of 4 part packages") as info:
        assemble(broken, tmp_path)
    assert "make models" in info.value.hint and "pip install 'fake-gone==9.9'" in info.value.hint
    assert status(broken, tmp_path).parts_found == 3 and not status(broken, tmp_path).installed


def test_leftover_part_file_from_an_interrupted_run_is_replaced(make_parts: MakeParts, tmp_path: Path) -> None:
    spec = make_parts(CHUNKS)
    stale = tmp_path / "fake-model.gguf.part"
    stale.write_bytes(b"half a model")
    out = assemble(spec, tmp_path)
    assert out.read_bytes() == b"".join(CHUNKS) and not stale.exists()


def test_a_changed_file_is_reassembled(make_parts: MakeParts, tmp_path: Path) -> None:
    spec = make_parts(CHUNKS)
    out = assemble(spec, tmp_path)
    out.write_bytes(b"x" * spec.size)  # same size, new mtime: the marker no longer vouches for it
    assert not marker_ok(spec, out)
    assert assemble(spec, tmp_path).read_bytes() == b"".join(CHUNKS)


def test_verify_rehashes_and_an_intact_file_is_adopted(make_parts: MakeParts, tmp_path: Path) -> None:
    spec = make_parts(CHUNKS)
    out = tmp_path / "fake-model.gguf"
    out.write_bytes(b"".join(CHUNKS))  # e.g. copied by hand: no marker yet
    assert not marker_ok(spec, out)
    assert assemble(spec, tmp_path, verify=True) == out and marker_ok(spec, out)


def test_parts_of_the_wrong_size_are_refused(make_parts: MakeParts, tmp_path: Path) -> None:
    spec = make_parts(CHUNKS)
    wrong = ModelSpec(**{**spec.__dict__, "size": spec.size + 1})
    with pytest.raises(LMError, match="add up to"):
        assemble(wrong, tmp_path)


def test_a_file_part_is_found_without_importing_its_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "fdafake_heavy"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("raise ImportError('needs llama_cpp')\n")
    (pkg / "model.gguf").write_bytes(b"GGUF")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert find_part(PartRef("heavy", "1", "fdafake_heavy", file="model.gguf")) == pkg / "model.gguf"
    assert find_part(PartRef("heavy", "1", "fdafake_heavy", file="other.gguf")) is None


def test_status_reports_assembled_only_after_assembly(make_parts: MakeParts, tmp_path: Path) -> None:
    spec = make_parts(CHUNKS)
    assert status(spec, tmp_path).installed and not status(spec, tmp_path).assembled
    assemble(spec, tmp_path)
    st = status(spec, tmp_path)
    assert st.assembled and st.path.read_bytes() == b"".join(CHUNKS)
    assert hashlib.sha256(st.path.read_bytes()).hexdigest() == spec.sha256
