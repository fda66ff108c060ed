"""The fine-tuning data set: gold train rows -> (served prompt, target completion) pairs, with a manifest.

    examples, manifest = build_dataset(rows, prompt_for, name="gold-v2-train")
    write_dataset(examples, manifest, state_dir / "finetune" / "data", DATASET_MANIFESTS)

Rows come from gold v2 **train** only (``check_split`` refuses any other; the sealed test never gets here).
The examples hold the docs' passages as the program showed them, so they stay in ``state/`` (the corpus is not
copied into the repository); the manifest (row ids, counts, why rows were skipped, the file's hash, the git
commit and the command) is committed under ``data/finetune/``, so a data set can be rebuilt and checked.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from eval.gold import GoldQuestion
from fda.errors import FinetuneError
from optimizers.finetune.records import Messages, Prompt
from optimizers.finetune.targets import Skip, Target, TeacherAnswer, mixed_target, target_for

DATASET_MANIFESTS = Path(__file__).resolve().parents[2] / "data" / "finetune"


@dataclass(frozen=True)
class Example:
    id: str
    type: str
    kind: str  # "answer" | "decline"
    messages: Messages
    completion: str


def build_dataset(
    rows: Sequence[GoldQuestion],
    prompt_for: Callable[[GoldQuestion], Prompt | None],
    *,
    name: str,
    teacher: Mapping[str, TeacherAnswer] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Example], dict[str, Any]]:
    """Examples for ``rows`` (each row's served prompt from ``prompt_for``) and the data set's manifest. With
    ``teacher`` (question id -> the teacher program's answer), an answerable row's target is the teacher's answer
    where it passes the metric's bars (``targets.distilled_target``), else the reference answer."""
    examples: list[Example] = []
    skipped: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    for i, row in enumerate(rows, start=1):
        prompt = prompt_for(row)
        if prompt is None:
            skipped["answered before the LM (guard or scope gate)"] += 1
        else:
            target: Target | Skip
            if teacher is None:
                target = target_for(row, prompt.shown)
            else:
                target, source = mixed_target(row, prompt.shown, teacher.get(row.id))
                if isinstance(target, Target):
                    sources[source] += 1
            if isinstance(target, Skip):
                skipped[target.reason] += 1
            else:
                examples.append(Example(row.id, row.type.value, target.kind, prompt.messages, target.completion))
        if progress is not None:
            progress(i, len(rows))
    manifest = {
        "name": name,
        "rows": len(rows),
        "examples": len(examples),
        "by_kind": dict(Counter(e.kind for e in examples)),
        "by_type": dict(Counter(e.type for e in examples)),
        "skipped": dict(skipped),
        "ids": [e.id for e in examples],
    }
    if teacher is not None:
        manifest["targets"] = dict(sources)
    return examples, manifest


def dataset_path(data_dir: Path, name: str) -> Path:
    return data_dir / f"{name}.jsonl"


def write_dataset(
    examples: Iterable[Example], manifest: dict[str, Any], data_dir: Path, manifest_dir: Path
) -> tuple[Path, Path]:
    """The examples under ``data_dir`` (state) and the manifest, with their sha256, under ``manifest_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    manifest_dir.mkdir(parents=True, exist_ok=True)
    path = dataset_path(data_dir, manifest["name"])
    text = "".join(json.dumps(asdict(e), ensure_ascii=False) + "\n" for e in examples)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    manifest = {**manifest, "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}
    out = manifest_dir / f"{manifest['name']}.manifest.json"
    out.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return path, out


def read_dataset(path: Path, manifest: Path | None = None) -> list[Example]:
    """The examples at ``path``; with ``manifest``, refused unless the file's hash is the manifest's."""
    if not path.is_file():
        raise FinetuneError(f"no fine-tuning data at {path}", hint="Build it first: `fda finetune data`.")
    raw = path.read_bytes()
    if manifest is not None and manifest.is_file():
        want = json.loads(manifest.read_text(encoding="utf-8")).get("sha256")
        if want and hashlib.sha256(raw).hexdigest() != want:
            raise FinetuneError(
                f"{path} does not match its manifest {manifest} (changed or corrupted)",
                hint="Rebuild it with `fda finetune data`.",
            )
    out = []
    for n, line in enumerate(raw.decode("utf-8").splitlines(), start=1):
        try:
            out.append(Example(**json.loads(line)))
        except (json.JSONDecodeError, TypeError) as err:
            raise FinetuneError(
                f"{path}:{n} is not a fine-tuning example ({err})", hint="Rebuild it with `fda finetune data`."
            ) from err
    if not out:
        raise FinetuneError(f"{path} holds no examples", hint="Rebuild it with `fda finetune data`.")
    return out
