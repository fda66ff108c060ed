"""The sealed test split: read only through a logged confirm, one line per read in a committed log.

    access = open_sealed("v2", who="alice", purpose="rag 1.5B after #19", command="fda eval confirm ...")
    rows = load_gold("v2", "test", access=access)
    close_sealed(access, run_id=..., headline={...})

``open_sealed`` appends who, what, when and the git sha to ``data/gold/<version>/access/test-access.jsonl`` before
a single row is read, so a run that crashes half way still counts as a read. It refuses a working tree
with uncommitted changes (outside the log and eval/results/): a confirm must name the code it measured.
Docs quote only test numbers whose run appears in this log. The rule it serves: choose on train and
dev-select, check on dev-confirm, and read the test split once per candidate.
"""

from __future__ import annotations

import getpass
import json
import subprocess
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval.gold import GOLD_DIR, SealedAccess, sealed_split
from fda.errors import FDAError, SealedSplitError

ACCESS_DIR = "access"  # a sub-folder: the loader reads only the version folder's own *.jsonl
ACCESS_LOG = "test-access.jsonl"
# What a confirm run itself writes (the log, the exported results): may be uncommitted when the next starts.
_LOG_SUFFIX = f"/{ACCESS_DIR}/{ACCESS_LOG}"
_RESULTS_PREFIX = "eval/results/"


_REDTEAM_LOG = "data/redteam/access.jsonl"  # the red-team suite's held-out reads (eval/redteam.py)


def _own_output(path: str) -> bool:
    return path.endswith(_LOG_SUFFIX) or path.startswith(_RESULTS_PREFIX) or path == _REDTEAM_LOG


def access_log(version: str, root: Path = GOLD_DIR) -> Path:
    return root / version / ACCESS_DIR / ACCESS_LOG


def git_state(cwd: Path) -> tuple[str, list[str]]:
    """(HEAD sha, changed paths outside the confirm's own outputs); ('unknown', []) outside a git checkout."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "unknown", []
    changed = [path for line in status if (path := line[3:]) and not _own_output(path)]
    return sha, changed


def read_entries(path: Path) -> list[dict[str, Any]]:
    """Every entry of an access log (JSONL); [] when there is none yet."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def append_entry(path: Path, entry: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")


def committed_state(
    repo: Path, *, allow_dirty: bool, why: str, hint: str, error: type[FDAError] = SealedSplitError
) -> tuple[str, bool]:
    """(HEAD sha, dirty) for a logged read; ``error`` on uncommitted changes unless ``allow_dirty``: a read of
    held-out data must name the code it measured (``why`` says which read)."""
    sha, changed = git_state(repo)
    if changed and not allow_dirty:
        shown = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
        raise error(f"uncommitted changes ({shown}): {why}", hint=hint)
    return sha, bool(changed)


def opened_entry(**fields: Any) -> dict[str, Any]:
    """A new read's first log line: a fresh entry id, the time and the user, then ``fields``."""
    who = fields.pop("who", None) or getpass.getuser()
    return {"entry_id": uuid.uuid4().hex[:12], "event": "opened",
            "when": datetime.now(UTC).isoformat(timespec="seconds"), "who": who, **fields}  # fmt: skip


def read_log(version: str, root: Path = GOLD_DIR) -> list[dict[str, Any]]:
    return read_entries(access_log(version, root))


def _append(version: str, root: Path, entry: dict[str, Any]) -> None:
    append_entry(access_log(version, root), entry)


def open_sealed(
    version: str,
    *,
    who: str | None,
    purpose: str,
    command: str,
    root: Path = GOLD_DIR,
    repo: Path | None = None,
    allow_dirty: bool = False,
) -> SealedAccess:
    """Log the read, then hand out the token ``load_gold`` wants for the sealed split."""
    split = sealed_split(version, root)
    if not split:
        raise SealedSplitError(f"gold {version} has no sealed split", hint="Use --split with `fda eval` instead.")
    if not purpose.strip():
        raise SealedSplitError("say what this confirm is for", hint='--purpose "rag, 1.5B, candidate after #19"')
    sha, dirty = committed_state(
        repo or root.parent.parent,
        allow_dirty=allow_dirty,
        why="a confirm must name the code it measures",
        hint="Commit first (the log records the git sha), or pass --allow-dirty to log the run as dirty.",
    )
    entry = opened_entry(who=who, git_sha=sha, dirty=dirty, split=split, purpose=purpose.strip(), command=command)
    _append(version, root, entry)
    return SealedAccess(version=version, entry_id=entry["entry_id"])


def close_sealed(
    access: SealedAccess, *, run_id: str, results_file: str | None, headline: dict[str, Any], root: Path = GOLD_DIR
) -> None:
    """The read's outcome, appended under the same entry id (the run, its committed results, headline means)."""
    _append(
        access.version,
        root,
        {
            "entry_id": access.entry_id,
            "event": "finished",
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "run_id": run_id,
            "results_file": results_file,
            "headline": headline,
        },
    )
