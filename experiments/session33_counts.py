"""The counts behind session 33's trust change (docs/trust.md). No LM call; a minute at most.

    python -m experiments.session33_counts members     # committed answers' sentences naming a method no source has
    python -m experiments.session33_counts malformed   # committed answers declined as "malformed LM output"

Only material that may be read to choose a rule: gold v2 train and dev, and committed train/dev runs (files naming
"test" or "heldout" are skipped). A run's shown passages are re-read from the store by the URLs it retrieved (the
latest docs version's sections; the rows keep URLs, not texts), so the count approximates what the verifier saw.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def members() -> None:
    from eval.gold import load_gold
    from fda.settings import Settings
    from index.ingest.store import open_store
    from programs.trust.verify import FENCE, _code_names, _unknown_members
    from programs.trust.vocabulary import IDENT, ApiVocabulary, code_parts

    with open_store(Settings().db_path, read_only=True) as con:
        rows = con.execute("SELECT url, text FROM chunks").fetchall()
    vocab = ApiVocabulary.from_texts(t for _, t in rows)
    by_url: dict[str, list[str]] = {}
    for url, text in rows:
        by_url.setdefault(url.split("?")[0], []).append(text)
    questions = {g.id: g.question for split in ("train", "dev-select", "dev-confirm") for g in load_gold("v2", split)}
    answers = sentences = 0
    flagged: Counter[tuple[str, str]] = Counter()
    for path in sorted((ROOT / "eval" / "results").glob("*.jsonl")):
        if re.search("test|heldout", path.name, re.IGNORECASE) or not re.search("rag|multihop|agent", path.name):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(row.get("answer"), str):
                continue
            answers += 1
            shown = "\n".join(t for u in row.get("retrieved") or [] for t in by_url.get(u.split("?")[0], []))
            here = frozenset(IDENT.findall(" ".join(code_parts(shown)))) | _code_names(
                questions.get(row["question_id"], "")
            )
            for part in FENCE.split(row["answer"]):
                if part.startswith("```"):
                    continue
                found = _unknown_members(part, vocab, here)
                sentences += bool(found)
                flagged.update((row["question_id"], name) for name in found)
    sys.stdout.write(f"{answers} answers: {sum(flagged.values())} names presented as a method, attribute or "
                     f"function that no source, FastAPI class or docs definition has ({len(flagged)} distinct)\n")  # fmt: skip
    for (qid, name), n in sorted(flagged.items()):
        sys.stdout.write(f"  {qid}: {name} x{n}\n")


def malformed() -> None:
    answers = hit = 0
    for path in sorted((ROOT / "eval" / "results").glob("*.jsonl")):
        if re.search("test|heldout", path.name, re.IGNORECASE) or not re.search("rag|multihop|agent", path.name):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            answers += 1
            hit += row.get("reason") == "malformed LM output"
    sys.stdout.write(f"{answers} answers: {hit} declined as malformed LM output\n")


if __name__ == "__main__":
    {"members": members, "malformed": malformed}[sys.argv[1]]()
