"""The docs point at things that exist: README.md and every docs/**/*.md, checked file by file.

- every relative markdown link ``[text](path)`` / ``[text](path#anchor)`` names a file or folder that exists,
  relative to the linking file (web links and ``mailto:`` are left out), and an anchor, into another markdown
  file or the same page (``#anchor``), names one of its headings (GitHub's slugs);
- every repository path written in backticks (``index/retrieval/fused.py``), in plain text
  (index/retrieval/fused.py) or in a code block exists, so a moved module cannot leave a stale pointer behind;
- every ``python -m MODULE`` names a module of the repository that exists, and a dotted reference in backticks
  (``index.retrieval.factory.open_retriever``) names a module that exists and a name it defines.

Links and headings are read outside fenced code blocks only (there they are commands and output).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])

PACKAGES = ("fda", "index", "eval", "ops", "programs", "signatures", "optimizers", "api", "ui", "experiments", "tests")
PREFIXES = r"(?:fda|index|eval|ops|programs|signatures|optimizers|api|ui|experiments|tests|infra|data)"
EXTENSIONS = r"(?:py|md|json|jsonl|toml|sh)"
REPO_PATH = re.compile(rf"^{PREFIXES}/[\w/.-]+\.{EXTENSIONS}$")
# the same shape inside prose: not part of a longer path or URL, not followed by more path characters
PROSE_PATH = re.compile(rf"(?<![\w/.:@-]){PREFIXES}/[\w/.-]*?\.{EXTENSIONS}(?![\w/-])")
LINK = re.compile(r"(?<!!)\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
EXTERNAL = ("http://", "https://", "mailto:", "ftp://")
RUN_MODULE = re.compile(r"python3?\s+-m\s+([\w.]+)")
DOTTED = re.compile(rf"(?<![\w/.-])({'|'.join(PACKAGES)})((?:\.\w+)+)")


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) outside fenced code blocks."""
    fence: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        m = FENCE.match(line)
        if m:
            if fence is None:
                fence = m.group(1)
            elif m.group(1) == fence:
                fence = None
            continue
        if fence is None:
            yield number, line


def links(path: Path) -> Iterator[tuple[int, str]]:
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        bare = CODE_SPAN.sub("", line)  # `[a](b)` in backticks is code, not a link
        for pattern in (LINK, IMAGE):
            for m in pattern.finditer(bare):
                yield number, m.group(1)


def is_relative(target: str) -> bool:
    return not (target.startswith(EXTERNAL) or target.startswith("#"))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = re.sub(r"<[^>]+>", "", text).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    out: set[str] = set()
    for _, line in prose_lines(path.read_text(encoding="utf-8")):
        m = HEADING.match(line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def repo_paths(path: Path) -> Iterator[tuple[int, str]]:
    """Repository paths named in backticks, in plain text or in code blocks (each once a line)."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        found = [m.group(2).strip() for m in CODE_SPAN.finditer(line) if REPO_PATH.match(m.group(2).strip())]
        plain = LINK.sub(" ", IMAGE.sub(" ", line))  # link targets are checked (relative to the file) above
        found += [m.group(0) for m in PROSE_PATH.finditer(plain)]
        yield from ((number, p) for p in dict.fromkeys(found))


def run_modules(path: Path) -> Iterator[tuple[int, str]]:
    """Project modules run with ``python -m`` anywhere in the file (code blocks included)."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for m in RUN_MODULE.finditer(line):
            if m.group(1).split(".")[0] in PACKAGES:
                yield number, m.group(1)


def dotted_references(path: Path) -> Iterator[tuple[int, str]]:
    """``package.module.name`` written in backticks outside code blocks."""
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        for span in CODE_SPAN.finditer(line):
            for m in DOTTED.finditer(span.group(2)):
                yield number, m.group(0)


def runnable(module: str) -> bool:
    base = ROOT / module.replace(".", "/")
    return base.with_suffix(".py").is_file() or (base / "__main__.py").is_file()


@cache
def defined_names(module_file: Path) -> frozenset[str]:
    """Names a module defines or imports, at any depth (lenient: a nested name counts)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(module_file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return frozenset(names)


def dotted_problem(ref: str) -> str | None:
    """Why ``ref`` names nothing, or None. ``pkg.setting`` (``eval.workers``, a settings key) is not judged:
    only a reference whose first two parts are a module or package of the repository is."""
    parts = ref.split(".")
    for i in range(len(parts), 1, -1):
        base = ROOT.joinpath(*parts[:i])
        module_file = base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
        if not module_file.is_file():
            continue
        rest = parts[i:]
        if rest and rest[0] not in defined_names(module_file):
            return f"{'.'.join(parts[:i])} defines no {rest[0]!r}"
        return None
    return None


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_relative_links_exist(doc: Path) -> None:
    missing = []
    for number, target in links(doc):
        if not is_relative(target):
            continue
        file_part = target.split("#", 1)[0]
        if not (doc.parent / file_part).exists():
            missing.append(f"{rel(doc)}:{number}: {target}")
    assert not missing, "links to files that do not exist:\n" + "\n".join(missing)


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_link_anchors_exist(doc: Path) -> None:
    missing = []
    for number, target in links(doc):
        if target.startswith(EXTERNAL) or "#" not in target:
            continue
        file_part, anchor = target.split("#", 1)
        linked = (doc.parent / file_part) if file_part else doc
        if linked.suffix == ".md" and linked.is_file() and anchor not in anchors(linked):
            missing.append(f"{rel(doc)}:{number}: {target}")
    assert not missing, "links to headings that do not exist:\n" + "\n".join(missing)


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_repository_paths_exist(doc: Path) -> None:
    missing = [f"{rel(doc)}:{number}: {p}" for number, p in repo_paths(doc) if not (ROOT / p).exists()]
    assert not missing, "paths to files that do not exist (moved or renamed?):\n" + "\n".join(missing)


@pytest.mark.parametrize("doc", DOCS, ids=rel)
def test_modules_and_names_exist(doc: Path) -> None:
    missing = [f"{rel(doc)}:{n}: python -m {m}" for n, m in run_modules(doc) if not runnable(m)]
    missing += [f"{rel(doc)}:{n}: {r} ({why})" for n, r in dotted_references(doc) if (why := dotted_problem(r))]
    assert not missing, "modules or names that do not exist (moved or renamed?):\n" + "\n".join(missing)


def test_the_checks_see_what_they_should(tmp_path: Path) -> None:
    """The parsers find links, anchors and paths (a broken regex would make every check above pass)."""
    doc = tmp_path / "x.md"
    doc.write_text(
        "# Top (`fda x`)\n## Top (`fda x`)\n"
        "See [a](b.md#top-fda-x-1), ![img](img/p.png), [web](https://x.y/z), [self](#top-fda-x).\n"
        "Code in `index/retrieval/fused.py` and in index/retrieval/bm25.py, not in https://x.y/ops/a.py.\n"
        "```bash\n[not](a link) `ops/fake.py` # not a heading\npython -m index.warm\n```\n"
        "`index.retrieval.base.open_retriever`, `index.retrieval.factory.open_retriever`, `eval.workers`\n",
        encoding="utf-8",
    )
    assert [t for _, t in links(doc)] == ["b.md#top-fda-x-1", "https://x.y/z", "#top-fda-x", "img/p.png"]
    assert anchors(doc) == {"top-fda-x", "top-fda-x-1"}
    assert [p for _, p in repo_paths(doc)] == ["index/retrieval/fused.py", "index/retrieval/bm25.py", "ops/fake.py"]
    assert [m for _, m in run_modules(doc)] == ["index.warm"] and not runnable("index.warm")
    assert runnable("index.retrieval.warm") and runnable("fda.cli")
    refs = [r for _, r in dotted_references(doc)]
    assert refs == ["index.retrieval.base.open_retriever", "index.retrieval.factory.open_retriever", "eval.workers"]
    assert [dotted_problem(r) is None for r in refs] == [False, True, True]
    assert len(DOCS) > 5 and ROOT / "README.md" in DOCS
