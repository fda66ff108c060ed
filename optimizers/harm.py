"""Train the harm gate (programs/trust/harm.py): is the question a request for help causing harm?

    model = train_harm(encoder, encoder_id=..., out=Path("data/harm/model.json"))   # `fda harm train`

Data:
- harmful: data/harm/harmful.jsonl (300 requests in 12 kinds: phishing, attacks on third parties, session
  theft, malware and C2, DDoS, fraud, privacy abuse, credential theft, evasion, insider exfiltration,
  harassment, other), written by an agent pass that did not open the gold sets, the red-team suite or the
  guard;
- refused too: data/harm/about-the-assistant.jsonl (120 questions about the assistant itself) and
  data/harm/service-secrets.jsonl (160 requests aimed at the service's own host: env, keys, files, database,
  other users' questions, commands), the latter against data/harm/own-app-secrets.jsonl (160 harmless questions
  on the same topics about the user's own app);
- harmless: data/harm/benign.jsonl (300 security-minded but legitimate FastAPI questions: auth, hashing,
  rate limits, testing one's own app, "kill the background task"), the user-style questions of data/scope/
  (in and out of scope: off-topic is not harmful), a sample of the generated section questions, and gold v2
  train rows that are not adversarial.

Features and fit as the scope gate (optimizers/scope.py). The threshold is the highest that declines at most
``max_false`` (default: none) of gold v2 dev-select's non-adversarial rows: ordinary questions must pass; the
red-team suite's *tune* half is reported too, its held-out half never read here.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from eval.gold import gold_hash, load_gold
from fda.text import clean_text, has_lone_surrogate
from optimizers.scope import (
    DATA,
    NEGATIVES,
    POSITIVES,
    SECTION_QUESTIONS,
    Example,
    _jsonl,
    choose_threshold,
    encode,
    fit_gate,
)
from programs.trust.scope import QuestionEncoder, ScopeModel

HARMFUL = DATA / "harm" / "harmful.jsonl"
BENIGN = DATA / "harm" / "benign.jsonl"
ABOUT_ASSISTANT = DATA / "harm" / "about-the-assistant.jsonl"
# requests aimed at the service's own host (its env, keys, files, database, logs, shell) and, as their
# harmless contrast, the same topics asked about the user's own app; written by an agent pass from issue
# #20's text that did not open the gold sets, the red-team suite, the guard, the trust checks or the docs
SERVICE_SECRETS = DATA / "harm" / "service-secrets.jsonl"
OWN_APP = DATA / "harm" / "own-app-secrets.jsonl"
# a second pass of harmful requests (more jailbreak wrappers, account takeover, evasion) and scary-worded harmless
# questions, by another agent pass under the same rules: NOT trained on (with them the dev-chosen threshold fell
# and the red-team tune half got worse, docs/security.md); they measure how the classifier generalises
# (`python -m experiments.harm_cv second-pass`)
HARMFUL_2 = DATA / "harm" / "harmful-2.jsonl"
BENIGN_2 = DATA / "harm" / "benign-2.jsonl"
COMMAND = "fda harm train"
SECTION_SAMPLE = 800  # generated section questions kept (of ~3,100): harmless, but all alike


def training_examples(seed: int = 0) -> list[Example]:
    """Harmful (``in_scope=False``: the class to decline) and harmless examples; no dev, test or red-team row,
    and not the scope gate's held-out files."""
    out = [Example(r["question"], False, "harm-harmful") for r in _jsonl(HARMFUL)]
    # questions about the assistant itself (its prompt, rules, configuration): refused like harm, never answered
    out += [Example(r["question"], False, "about-the-assistant") for r in _jsonl(ABOUT_ASSISTANT)]
    out += [Example(r["question"], False, "service-secrets") for r in _jsonl(SERVICE_SECRETS)]
    out += [Example(r["question"], True, "harm-benign") for r in _jsonl(BENIGN)]
    out += [Example(r["question"], True, "own-app") for r in _jsonl(OWN_APP)]
    for path in (*POSITIVES, *NEGATIVES):  # never HELDOUT_POSITIVES / HELDOUT_NEGATIVES: they measure the gates
        out += [Example(r["question"], True, f"scope-{path.stem}") for r in _jsonl(path)]
    sections = [q for row in _jsonl(SECTION_QUESTIONS) for q in row.get("questions", []) if q.strip()]
    out += [
        Example(q, True, "section-questions")
        for q in random.Random(seed).sample(sections, min(SECTION_SAMPLE, len(sections)))
    ]
    out += [
        Example(r.question, True, "gold-v2-train") for r in load_gold("v2", "train") if str(r.type) != "adversarial"
    ]
    return out


def train_harm(
    encoder: QuestionEncoder,
    *,
    encoder_id: str,
    out: Path | None = None,
    l2: float = 1.0,
    k_in: int = 64,
    k_out: int = 32,
    max_false: float = 0.0,
    tick: Callable[[], None] | None = None,
) -> ScopeModel:
    """Fit, choose the threshold on dev-select's ordinary rows, report the red-team tune half, save."""
    from eval.redteam import load_attacks

    examples = training_examples()
    model, x, y = fit_gate(encoder, examples, k_in=k_in, k_out=k_out, l2=l2, tick=tick)
    dev = [r for r in load_gold("v2", "dev-select") if str(r.type) != "adversarial"]
    dev_p = [model.p_in_scope(v) for v in encode(encoder, [r.question for r in dev], tick)]
    threshold = choose_threshold(dev_p, max_false)
    # as the programs see them: cleaned, lone surrogates refused before any check (fda/text.py)
    tune = [a for a in load_attacks(part="tune") if not has_lone_surrogate(a.question)]
    tune_p = [model.p_in_scope(v) for v in encode(encoder, [clean_text(a.question) for a in tune], tick)]
    train_p = [model.p_in_scope(v) for v in x]
    info = {
        "command": COMMAND,
        "l2": l2,
        "k_in": k_in,
        "k_out": k_out,
        "max_false": max_false,
        "training": dict(Counter(f"{e.origin}:{'harmless' if e.in_scope else 'harmful'}" for e in examples)),
        "gold_v2_hash": gold_hash("v2"),
        "train": split_rates(train_p, [not bool(v) for v in y], threshold),
        "dev_select_ordinary": {"n": len(dev), "declined": round(sum(p < threshold for p in dev_p) / len(dev), 4)},
        "redteam_tune": redteam_rates(tune, tune_p, threshold),
        "threshold_chosen_on": "gold v2 dev-select: its non-adversarial rows",
    }
    model = dataclasses.replace(model, threshold=threshold, encoder=encoder_id, info=info)
    if out is not None:
        model.save(out)
    return model


def split_rates(p: Sequence[float], harmful: Sequence[bool], threshold: float) -> dict[str, Any]:
    caught = [x < threshold for x, h in zip(p, harmful, strict=True) if h]
    false = [x < threshold for x, h in zip(p, harmful, strict=True) if not h]
    return {
        "harmful": len(caught),
        "harmful_declined": round(sum(caught) / len(caught), 4) if caught else 0.0,
        "harmless": len(false),
        "harmless_declined": round(sum(false) / len(false), 4) if false else 0.0,
    }


def redteam_rates(attacks: Sequence[Any], p: Sequence[float], threshold: float) -> dict[str, Any]:
    """Per red-team category: how many the gate declines (all categories: a decline of an attack that expects
    an answer is not a failure of the attack, but it is a false refusal when the question is legitimate)."""
    per: dict[str, list[int]] = {}
    for a, x in zip(attacks, p, strict=True):
        row = per.setdefault(a.category, [0, 0])
        row[0] += 1
        row[1] += int(x < threshold)
    return {cat: f"{d}/{n}" for cat, (n, d) in sorted(per.items())}
