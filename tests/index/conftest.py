"""A tiny FastAPI docs tree, written for the tests, in every container the ingester reads."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest

TINY_FILES: dict[str, str] = {
    "docs/en/docs/index.md": "---\nhide:\n  - navigation\n---\n# FastAPI { #fastapi }\n\nFastAPI is a web framework.\n",
    "docs/en/docs/tutorial/cors.md": (
        '# CORS { #cors }\n\nIntro about <abbr title="Cross-Origin Resource Sharing">CORS</abbr>.\n\n'
        "## Use `CORSMiddleware` { #use-corsmiddleware }\n\nAdd the middleware:\n\n"
        "{* ../../docs_src/cors/tutorial001_py310.py hl[2] *}\n\n"
        "/// tip | Credentials\n\nWildcards exclude credentials.\n\n///\n"
    ),
    "docs/en/docs/tutorial/old-style.md": (
        "# Old Style\n\n## `response_model` Parameter\n\n"
        '```Python hl_lines="3"\n{!../../../docs_src/cors/tutorial001_py310.py!}\n```\n\n'
        '!!! note "Technical Details"\n    Indented body.\n\n## Recap\n\nDone.\n\n## Recap\n\nAgain.\n'
    ),
    "docs/en/docs/tutorial/broken.md": "# Broken { #broken }\n\n{* ../../docs_src/missing/nowhere.py *}\n",
    "docs/en/docs/reference/fastapi.md": "# `FastAPI` class\n\nReference.\n\n::: fastapi.FastAPI\n    options:\n        members:\n            - get\n",
    "docs/en/docs/fastapi-people.md": "# FastAPI People\n\n{% for user in people %}{{ user.login }}{% endfor %}\n",
    "docs/en/docs/release-notes.md": (
        "# Release Notes\n\n## Latest Changes\n\n## 0.2.0 (2024-02-01)\n\n### Features\n\n* Add `lifespan`. PR #2.\n\n"
        "### Fixes\n\n* Fix a bug.\n\n## 0.1.0 (2024-01-01)\n\n* First release.\n"
    ),
    "docs/en/mkdocs.yml": "site_name: FastAPI\n",
    "docs_src/cors/tutorial001_py310.py": "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n\napp = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=['*'])\n",
}


def write_checkout(root: Path, files: dict[str, str] = TINY_FILES, version: str = "0.2.0") -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "fastapi").mkdir(exist_ok=True)
    (root / "fastapi" / "__init__.py").write_text(f'__version__ = "{version}"\n')
    return root


def write_dump(path: Path, files: dict[str, str] = TINY_FILES) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for rel, text in files.items():
            fh.write(json.dumps({"path": rel, "text": text}) + "\n")
    return path


@pytest.fixture
def tiny_checkout(tmp_path: Path) -> Path:
    return write_checkout(tmp_path / "fastapi-checkout")


@pytest.fixture
def tiny_dumps(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_dump(folder / "fastapi-0.2.0.jsonl")
    older = {k: v.replace("{ #use-corsmiddleware }", "") for k, v in TINY_FILES.items()}
    write_dump(folder / "fastapi-0.1.0.jsonl", older)
    return folder


@pytest.fixture
def tiny_tarball(tmp_path: Path, tiny_checkout: Path) -> Path:
    out = tmp_path / "fastapi-0.2.0.tar.gz"
    with tarfile.open(out, "w:gz") as tar:
        tar.add(tiny_checkout, arcname="fastapi-0.2.0")
    return out
