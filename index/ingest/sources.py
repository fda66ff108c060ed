"""Corpus sources -> snapshots (``version``, ``path -> text``), whatever the container.

Accepted: a folder of ``fastapi-<tag>.jsonl`` dumps (the default, ../shared/corpus), one dump,
a fastapi checkout, a release tarball, or ``github:fastapi/fastapi@TAG`` (downloads the tarball).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fda.errors import CorpusError

log = logging.getLogger(__name__)

DOCS_DIR = "docs/en/docs/"
_DUMP_NAME = re.compile(r"^fastapi-(?P<tag>\d+\.\d+\.\d+)\.jsonl$")
_TARBALL_TAG = re.compile(r"(?P<tag>\d+\.\d+\.\d+)")
_VERSION_LINE = re.compile(r"__version__\s*=\s*[\"'](?P<v>[^\"']+)[\"']")
_GITHUB = re.compile(r"^github:(?P<repo>[\w.-]+/[\w.-]+)@(?P<tag>[\w.-]+)$")


def wanted(path: str) -> bool:
    """Docs markdown, mkdocs config, example sources, and library files that docs include."""
    return (
        (path.startswith(DOCS_DIR) and path.endswith(".md"))
        or path == "docs/en/mkdocs.yml"
        or path.startswith("docs_src/")
        or (path.startswith("fastapi/") and path.endswith(".py"))
    )


def version_key(tag: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.+-]", tag))


@dataclass
class Snapshot:
    version: str
    origin: str
    files: dict[str, str]
    undecodable: list[str] = field(default_factory=list)

    @property
    def md_paths(self) -> list[str]:
        return sorted(p for p in self.files if p.startswith(DOCS_DIR) and p.endswith(".md"))

    @property
    def content_hash(self) -> str:
        h = hashlib.sha256()
        for path in sorted(self.files):
            h.update(path.encode())
            h.update(b"\0")
            h.update(self.files[path].encode())
            h.update(b"\0")
        return h.hexdigest()

    def check(self) -> None:
        if not self.md_paths:
            raise CorpusError(
                f"{self.origin} is not a FastAPI docs tree: no {DOCS_DIR}*.md files in it",
            )


def _decode(path: str, data: bytes, bad: list[str]) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        bad.append(path)
        log.warning("%s: not UTF-8 text, skipped", path)
        return None


def read_dump(path: Path, version: str | None = None) -> Snapshot:
    m = _DUMP_NAME.match(path.name)
    tag = version or (m.group("tag") if m else None)
    if tag is None:
        raise CorpusError(
            f"{path}: cannot tell the release tag from the file name",
            hint="Name it fastapi-<tag>.jsonl or pass --version.",
        )
    files: dict[str, str] = {}
    bad: list[str] = []
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw.decode("utf-8"))
                p, text = row["path"], row["text"]
                if not isinstance(p, str) or not isinstance(text, str):
                    raise TypeError("path and text must be strings")
            except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as err:
                bad.append(f"{path.name}:{lineno}")
                log.warning("%s:%d: unreadable line skipped (%s)", path, lineno, err)
                continue
            if wanted(p):
                files[p] = text
    snap = Snapshot(tag, str(path), files, bad)
    snap.check()
    return snap


def _walk_checkout(root: Path) -> Iterator[tuple[str, bytes]]:
    for sub in ("docs/en/docs", "docs_src", "fastapi"):
        base = root / sub
        if base.is_dir():
            for f in sorted(base.rglob("*")):
                rel = f.relative_to(root).as_posix()
                if f.is_file() and wanted(rel):
                    yield rel, f.read_bytes()
    cfg = root / "docs/en/mkdocs.yml"
    if cfg.is_file():
        yield "docs/en/mkdocs.yml", cfg.read_bytes()


def _collect(items: Iterable[tuple[str, bytes]], origin: str, version: str | None) -> Snapshot:
    files: dict[str, str] = {}
    bad: list[str] = []
    for rel, data in items:
        text = _decode(rel, data, bad)
        if text is not None:
            files[rel] = text
    tag = version
    if tag is None and (init := files.get("fastapi/__init__.py")) and (m := _VERSION_LINE.search(init)):
        tag = m.group("v")
    if tag is None and (m := _TARBALL_TAG.search(Path(origin).name)):
        tag = m.group("tag")
    if tag is None:
        raise CorpusError(f"{origin}: cannot tell the FastAPI version", hint="Pass --version TAG.")
    snap = Snapshot(tag, origin, files, bad)
    snap.check()
    return snap


def read_checkout(root: Path, version: str | None = None) -> Snapshot:
    return _collect(_walk_checkout(root), str(root), version)


def read_tarball(path: Path, version: str | None = None) -> Snapshot:
    def members() -> Iterator[tuple[str, bytes]]:
        try:
            with tarfile.open(path) as tar:
                for member in tar:
                    if not member.isfile():
                        continue
                    rel = member.name.split("/", 1)[1] if "/" in member.name else member.name
                    if wanted(rel) and (fh := tar.extractfile(member)) is not None:
                        yield rel, fh.read()
        except (tarfile.TarError, OSError, EOFError) as err:
            raise CorpusError(f"{path}: not a readable tar archive ({err})") from err

    return _collect(members(), str(path), version)


def download_github(spec: str, cache_dir: Path) -> Path:
    """``github:fastapi/fastapi@0.100.0`` -> the release tarball, downloaded once into ``cache_dir``."""
    m = _GITHUB.match(spec)
    if m is None:
        raise CorpusError(
            f"bad source {spec!r}", hint="Use github:OWNER/REPO@TAG, e.g. github:fastapi/fastapi@0.100.0."
        )
    target = cache_dir / f"{m.group('repo').replace('/', '-')}-{m.group('tag')}.tar.gz"
    if target.is_file():
        return target
    import httpx

    url = f"https://github.com/{m.group('repo')}/archive/refs/tags/{m.group('tag')}.tar.gz"
    log.info("downloading %s", url)
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=60) as resp:
            resp.raise_for_status()
            buf = io.BytesIO()
            for part in resp.iter_bytes():
                buf.write(part)
    except httpx.HTTPError as err:
        raise CorpusError(
            f"could not download {url}: {err}", hint="Check the tag and your network, or pass a local --source."
        ) from err
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(target)
    return target


def load_sources(specs: list[str], cache_dir: Path, version: str | None = None) -> list[Snapshot]:
    """Every snapshot named by ``specs``; ``version`` overrides the tag of a single checkout/tarball."""
    snaps: list[Snapshot] = []
    for spec in specs:
        if spec.startswith("github:"):
            m = _GITHUB.match(spec)
            snaps.append(read_tarball(download_github(spec, cache_dir), version or (m.group("tag") if m else None)))
            continue
        path = Path(spec).expanduser()
        if not path.exists():
            raise CorpusError(f"corpus source {path} does not exist")
        if path.is_dir():
            if (path / "docs/en/docs").is_dir():
                snaps.append(read_checkout(path, version))
                continue
            dumps = sorted(p for p in path.glob("fastapi-*.jsonl") if _DUMP_NAME.match(p.name))
            if not dumps:
                raise CorpusError(
                    f"{path} is not a FastAPI docs tree: no docs/en/docs folder and no fastapi-<tag>.jsonl dumps"
                )
            snaps.extend(read_dump(d) for d in dumps)
        elif path.name.endswith(".jsonl"):
            snaps.append(read_dump(path, version))
        elif path.name.endswith((".tar.gz", ".tgz", ".tar")):
            snaps.append(read_tarball(path, version))
        else:
            raise CorpusError(f"{path}: unknown source type (expected a folder, *.jsonl or *.tar.gz)")
    seen: dict[str, str] = {}
    for s in snaps:
        if s.version in seen:
            raise CorpusError(f"version {s.version} given twice ({seen[s.version]} and {s.origin})")
        seen[s.version] = s.origin
    return snaps
