"""Can the embedded LM correct a claim-type false premise? (docs/trust.md, "Claims the question takes for granted")

    python -m experiments.premise_levers --lever none     # the served program, as it is
    python -m experiments.premise_levers --lever field    # a `premise` output field before the answer
    python -m experiments.premise_levers --lever judge    # a separate LM call judging the question's assumption

Gold v2 *train* false-premise rows whose premise is a claim (the invented-API ones, which the premise check
declines before any LM call, are left out). One JSONL row per question under eval/results/premise/: the
answer (or the judge's assumption, evidence and verdict), the LM's raw output, seconds. Uses the configured LM
(the embedded 1.5B by default): about 10-40 s a question here.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Literal

import dspy

from api.wiring import wire
from eval.gold import load_gold
from fda.settings import get_settings
from programs.answering import WIDEN_FACTOR, retrieve_all, widener
from programs.context import focused, format_sources
from signatures.answer import CitedAnswer

OUT = Path(__file__).resolve().parent.parent / "eval" / "results" / "premise"
INVENTED_API = {"na-fp-workers-per-core", "na-fp-ws-heartbeat", "na-fp-builtin-healthz", "na-fp-add-task-run-at"}

WithPremise = CitedAnswer.prepend(
    "premise",
    dspy.OutputField(
        desc=(
            "Check what the question takes for granted about FastAPI against the sources. Write 'ok' when the "
            "sources agree with it or it assumes nothing. When a source says otherwise, write one sentence that "
            "corrects the assumption, ending with that source's number, like [2]."
        )
    ),
    type_=str,
)


class CheckAssumption(dspy.Signature):
    """Check a user's question about FastAPI against numbered excerpts from the FastAPI docs.

    Find what the question takes for granted about how FastAPI works (not what the user wants to do).
    Then decide: 'contradicted' when an excerpt says something incompatible with that assumption;
    'supported' when an excerpt agrees with it; 'not_said' when the excerpts do not speak to it or the
    question assumes nothing about FastAPI."""

    question: str = dspy.InputField(desc="The user's question (untrusted text).")
    sources: str = dspy.InputField(desc="Numbered excerpts from the FastAPI docs.")
    assumption: str = dspy.OutputField(
        desc="What the question takes for granted about FastAPI, in one short sentence, or 'none'."
    )
    evidence: str = dspy.OutputField(
        desc="The excerpt sentence that speaks to the assumption, quoted, with its number like [2]; or 'none'."
    )
    verdict: Literal["contradicted", "supported", "not_said"] = dspy.OutputField()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lever", choices=("none", "field", "judge"), required=True)
    args = parser.parse_args()
    rows = [r for r in load_gold(version="v2", split="train") if r.type == "false_premise" and r.id not in INVENTED_API]
    services = wire(get_settings(), build_missing=False)
    program = services.programs["rag"]
    if args.lever == "field":
        program.answerer = dspy.Predict(WithPremise)
    judge = dspy.Predict(CheckAssumption)
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"train-claims-{args.lever}.jsonl"
    with path.open("w") as out:
        for row in rows:
            t0 = time.perf_counter()
            calls = len(services.lm.history) if services.lm is not None else 0
            record: dict[str, Any] = {"question_id": row.id, "question": row.question}
            with services.lm_context():
                if args.lever == "judge":
                    passages = retrieve_all(program.retriever, [row.question], program.k, None)
                    widen = widener(program.retriever)
                    if widen is not None:
                        passages = [
                            p.model_copy(update={"text": widen(p, WIDEN_FACTOR * program.passage_chars)})
                            for p in passages
                        ]
                    sources = format_sources(passages, program.passage_chars, focused(row.question))
                    pred = judge(question=row.question, sources=sources)
                    record |= {"assumption": pred.assumption, "evidence": pred.evidence, "verdict": pred.verdict}
                else:
                    pred = program(question=row.question)
                    record |= {"answer": pred.answer, "declined": bool(pred.cannot_answer), "reason": pred.reason}
            history = services.lm.history if services.lm is not None else []
            record["raw"] = str(history[-1]["outputs"][0]) if len(history) > calls else ""  # "": no LM call
            record["seconds"] = round(time.perf_counter() - t0, 1)
            out.write(json.dumps(record) + "\n")
            out.flush()
            sys.stdout.write(f"{row.id} {record.get('verdict', '')} {record['seconds']}\n")
            sys.stdout.flush()
    sys.stdout.write(f"wrote {path}\n")


if __name__ == "__main__":
    main()
