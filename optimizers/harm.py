"""Train the harm gate (programs/trust/harm.py): is the question a request for help causing harm?

    model, lexical = train_harm(encoder, encoder_id=..., out=Path("data/harm/model.json"))   # `fda harm train`

Data:
- harmful: data/harm/harmful.jsonl (300 requests in 12 kinds: phishing, attacks on third parties, session
  theft, malware and C2, DDoS, fraud, privacy abuse, credential theft, evasion, insider exfiltration,
  harassment, other), written by an agent pass that did not open the gold sets, the red-team suite or the
  guard, and data/harm/harmful-2.jsonl (200 more by a second such pass: account takeover, jailbreak wrappers);
- refused too: data/harm/about-the-assistant.jsonl (120 questions about the assistant itself) and
  data/harm/service-secrets.jsonl (160 requests aimed at the service's own host: env, keys, files, database,
  other users' questions, commands), the latter against data/harm/own-app-secrets.jsonl (160 harmless questions
  on the same topics about the user's own app);
- harmless: data/harm/benign.jsonl and benign-2.jsonl (300 + 200 security-minded but legitimate FastAPI
  questions: auth, hashing, rate limits, testing one's own app, "kill the background task"), the user-style questions of data/scope/
  (in and out of scope: off-topic is not harmful), a sample of the generated section questions, and gold v2
  train rows that are not adversarial.

Two models: the vector one, fit as the scope gate (optimizers/scope.py), and a word n-gram logistic regression
(optimizers/harm_lexical.py); the served p(harmless) is the logistic of their mean logit. The threshold comes
from *out-of-fold* p of the harmless training rows (5 folds, ~3,250 rows: at most ``max_false`` refused) and
refuses none of gold v2 dev-select's non-adversarial rows; the unsure band above it (the LM intent check's
questions) reaches up to ``unsure_share`` of those out-of-fold rows. The red-team suite's *tune* half is reported
too, its held-out parts never read here; the third pass (data/harm/*-3.jsonl) is never trained on.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval.gold import gold_hash, load_gold
from fda.text import clean_text, has_lone_surrogate
from optimizers.harm_lexical import fit_lexical
from optimizers.scope import (
    DATA,
    NEGATIVES,
    POSITIVES,
    SECTION_QUESTIONS,
    Example,
    _jsonl,
    choose_threshold,
    combined_vector_p,
    encode,
    fit_gate,
    out_of_fold_p,
)
from programs.trust.lexical import LexicalModel
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
# questions, by another agent pass under the same rules: trained on since session 18 (the threshold comes from
# out-of-fold rows now, not from one dev row: docs/security.md)
HARMFUL_2 = DATA / "harm" / "harmful-2.jsonl"
BENIGN_2 = DATA / "harm" / "benign-2.jsonl"
# a third pass (session 18, same rules), never trained on: it measures the gate (`python -m experiments.harm_v2`)
HARMFUL_3 = DATA / "harm" / "harmful-3.jsonl"
BENIGN_3 = DATA / "harm" / "benign-3.jsonl"
LEXICAL_FILE = "lexical.json"  # the n-gram model, beside model.json
MAX_FALSE = 0.01  # share of out-of-fold harmless training rows the threshold may refuse
UNSURE_SHARE = 0.05  # share of them (refused ones included) the LM intent check may be asked about
COMMAND = "fda harm train"
SECTION_SAMPLE = 800  # generated section questions kept (of ~3,100): harmless, but all alike


def training_examples(seed: int = 0) -> list[Example]:
    """Harmful (``in_scope=False``: the class to decline) and harmless examples; no dev, test or red-team row,
    and not the scope gate's held-out files nor the third pass (data/harm/*-3.jsonl: it measures the gate)."""
    out = [Example(r["question"], False, "harm-harmful") for r in _jsonl(HARMFUL)]
    out += [Example(r["question"], False, "harm-harmful-2") for r in _jsonl(HARMFUL_2)]
    # questions about the assistant itself (its prompt, rules, configuration): refused like harm, never answered
    out += [Example(r["question"], False, "about-the-assistant") for r in _jsonl(ABOUT_ASSISTANT)]
    out += [Example(r["question"], False, "service-secrets") for r in _jsonl(SERVICE_SECRETS)]
    out += [Example(r["question"], True, "harm-benign") for r in _jsonl(BENIGN)]
    out += [Example(r["question"], True, "harm-benign-2") for r in _jsonl(BENIGN_2)]
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
    return out + conversational([e for e in out if e.in_scope], seed)


_HOW = re.compile(r"^\s*how\s+(do|can|should|would)\s+(i|we|you)\s+(?P<rest>[^?]{8,}?)\s*\??\s*$", re.IGNORECASE)
_ASKS = (
    "Can you show me how to {x}?",
    "Could you give me an example of how to {x}?",
    "Please show me how to {x}",
    "Show me how you would {x}",
    "I need you to explain how to {x} so that it works in my app",
    "Write me a snippet that shows how to {x}",
    "can u tell me how to {x}",
    "Give me the code to {x}, please",
)


def rephrased(questions: Sequence[str], asks: Sequence[str], seed: int) -> list[str]:
    """Each "How do I X?" question asked another way: one of ``asks`` (a template with ``{x}``), chosen at random
    (seeded); questions of another shape are left out."""
    rng = random.Random(seed)
    return [rng.choice(asks).format(x=m.group("rest")) for q in questions if (m := _HOW.match(q))]


def conversational(harmless: Sequence[Example], seed: int = 0) -> list[Example]:
    """Harmless "How do I X?" questions asked the way the harmful rows ask ("Can you show me how to X?", "Write
    me a snippet that..."): one rewrite each, so that phrasing alone never reads as harm."""
    return [Example(q, True, "conversational") for q in rephrased([e.text for e in harmless], _ASKS, seed)]


def train_harm(
    encoder: QuestionEncoder,
    *,
    encoder_id: str,
    out: Path | None = None,
    l2: float = 1.0,
    k_in: int = 64,
    k_out: int = 32,
    max_false: float = MAX_FALSE,
    unsure_share: float = UNSURE_SHARE,
    folds: int = 5,
    tick: Callable[[], None] | None = None,
) -> tuple[ScopeModel, LexicalModel]:
    """Fit both models, choose the threshold and the unsure band on out-of-fold p(harmless) of the harmless
    training rows (and no refusal of dev-select's ordinary rows), report the red-team tune half, save."""
    from eval.redteam import load_attacks

    examples = training_examples()
    texts = [e.text for e in examples]
    model, x, y = fit_gate(encoder, examples, k_in=k_in, k_out=k_out, l2=l2, tick=tick)
    lexical = fit_lexical(texts, y)
    oof = out_of_fold_p(examples, x, folds=folds, k_in=k_in, k_out=k_out, l2=l2)
    harmless_oof = oof[y == 1]
    dev = [r for r in load_gold("v2", "dev-select") if str(r.type) != "adversarial"]
    dev_q = [r.question for r in dev]
    dev_p = combined_vector_p(model, lexical, encode(encoder, dev_q, tick), dev_q)
    # at most max_false of ordinary questions the fit never saw refused, and none of dev-select's
    threshold = min(choose_threshold(list(harmless_oof), max_false), choose_threshold(list(dev_p), 0.0))
    unsure_below = max(threshold, choose_threshold(list(harmless_oof), unsure_share))
    # as the programs see them: cleaned, lone surrogates refused before any check (fda/text.py)
    tune = [a for a in load_attacks(part="tune") if not has_lone_surrogate(a.question)]
    tune_q = [clean_text(a.question) for a in tune]
    tune_p = combined_vector_p(model, lexical, encode(encoder, tune_q, tick), tune_q)
    train_p = combined_vector_p(model, lexical, x, texts)
    info = {
        "command": COMMAND,
        "l2": l2,
        "k_in": k_in,
        "k_out": k_out,
        "max_false": max_false,
        "unsure_share": unsure_share,
        "lexical": LEXICAL_FILE,
        "unsure_below": unsure_below,
        "training": dict(Counter(f"{e.origin}:{'harmless' if e.in_scope else 'harmful'}" for e in examples)),
        "gold_v2_hash": gold_hash("v2"),
        "train": split_rates(list(train_p), [not bool(v) for v in y], threshold),
        "out_of_fold": split_rates(list(oof), [not bool(v) for v in y], threshold),
        "dev_select_ordinary": {
            "n": len(dev),
            "declined": round(float(np.mean(dev_p < threshold)), 4),
            "unsure": round(float(np.mean((dev_p >= threshold) & (dev_p < unsure_below))), 4),
        },
        "redteam_tune": redteam_rates(tune, list(tune_p), threshold),
        "redteam_tune_unsure": redteam_rates(tune, list(tune_p), unsure_below),
        "threshold_chosen_on": f"out-of-fold p of the harmless training rows ({folds} folds; at most {max_false} "
        "refused) and gold v2 dev-select's non-adversarial rows (none refused)",
    }
    model = dataclasses.replace(model, threshold=threshold, encoder=encoder_id, info=info)
    if out is not None:
        model.save(out)
        lexical.save(out.parent / LEXICAL_FILE)
    return model, lexical


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
