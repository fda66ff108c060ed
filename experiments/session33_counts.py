"""The counts behind session 33's trust change (docs/trust.md). No LM call; a minute at most.

    python -m experiments.session33_counts members     # committed answers' sentences naming a method no source has
    python -m experiments.session33_counts malformed   # committed answers declined as "malformed LM output"
    python -m experiments.session33_counts dry-copy    # does DRY stop the 1.5B copying code from its prompt? (LM)

Only material that may be read to choose a rule: gold v2 train and dev, and committed train/dev runs (files naming
"test" or "heldout" are skipped). A run's shown passages are re-read from the store by the URLs it retrieved (the
latest docs version's sections; the rows keep URLs, not texts), so the count approximates what the verifier saw.
"""

from __future__ import annotations

import json
import sys
from collections import Counter

from experiments.session32_counts import committed_answers


def members() -> None:
    from eval.gold import load_gold
    from fda.settings import Settings
    from index.ingest.store import open_store
    from programs.trust.verify import FENCE, _unknown_members, names_at_hand
    from programs.trust.vocabulary import ApiVocabulary

    with open_store(Settings().db_path, read_only=True) as con:
        rows = con.execute("SELECT url, text FROM chunks").fetchall()
    vocab = ApiVocabulary.from_texts(t for _, t in rows)
    by_url: dict[str, list[str]] = {}
    for url, text in rows:
        by_url.setdefault(url.split("?")[0], []).append(text)
    questions = {g.id: g.question for split in ("train", "dev-select", "dev-confirm") for g in load_gold("v2", split)}
    answers = 0
    flagged: Counter[tuple[str, str]] = Counter()
    for row in committed_answers():
        answers += 1
        shown = "\n".join(t for u in row.get("retrieved") or [] for t in by_url.get(u.split("?")[0], []))
        here = names_at_hand(shown, questions.get(row["question_id"], ""), row["answer"])
        for part in FENCE.split(row["answer"]):
            if part.startswith("```"):
                continue
            found = _unknown_members(part, vocab, here)
            flagged.update((row["question_id"], name) for name in found)
    sys.stdout.write(f"{answers} answers: {sum(flagged.values())} names presented as a method, attribute or "
                     f"function that no source, FastAPI class or docs definition has ({len(flagged)} distinct)\n")  # fmt: skip
    for (qid, name), n in sorted(flagged.items()):
        sys.stdout.write(f"  {qid}: {name} x{n}\n")


def malformed() -> None:
    rows = list(committed_answers())
    answers, hit = len(rows), sum(row.get("reason") == "malformed LM output" for row in rows)
    sys.stdout.write(f"{answers} answers: {hit} declined as malformed LM output\n")


def dry_copy() -> None:
    """Ask the embedded model to copy a source's code block, with DRY off, at 0.8, and at 0.8 with more sequence
    breakers (temperature 0, the llama.cpp server's own request fields); say whether each copy is exact."""
    import urllib.request

    from fda.lm.factory import runtime_from_settings
    from fda.lm.registry import get_spec
    from fda.settings import get_settings

    settings = get_settings()
    runtime = runtime_from_settings(settings)
    base = runtime.server_for(get_spec(settings.lm.model)).api_base.rstrip("/")
    lines = [
        "from fastapi.middleware.cors import CORSMiddleware",
        'app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=True, allow_methods=["*"], '
        'allow_headers=["*"])',
    ]
    prompt = (
        f"Source [1]:\n```python\n{lines[0]}\n\napp = FastAPI()\n{lines[1]}\n```\n"
        "See https://fastapi.tiangolo.com/tutorial/cors/#use-corsmiddleware for the details of the middleware setup."
        "\n\nQuestion: How do I enable CORS? Reply with the code block of source [1], copied exactly, and then the "
        "sentence after it."
    )
    breakers = ["\n", ":", '"', "*", "(", ",", "."]
    for name, extra in (
        ("off", {"dry_multiplier": 0}),
        ("0.8", {"dry_multiplier": 0.8}),
        ("0.8, more breakers", {"dry_multiplier": 0.8, "dry_sequence_breakers": breakers}),
    ):
        body = {"messages": [{"role": "user", "content": prompt}], "temperature": 0, "max_tokens": 160, **extra}
        request = urllib.request.Request(
            f"{base}/chat/completions", data=json.dumps(body).encode(), headers={"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=300) as response:  # the local llama.cpp server
            text = json.load(response)["choices"][0]["message"]["content"]
        sys.stdout.write(f"DRY {name}: {sum(line in text for line in lines)} of {len(lines)} lines copied exactly\n")


if __name__ == "__main__":
    {"members": members, "malformed": malformed, "dry-copy": dry_copy}[sys.argv[1]]()
