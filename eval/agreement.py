"""How far the judge can be trusted: labeller-labeller and judge-labeller agreement on committed runs.

    fda eval agreement                       # data/labels/*.jsonl against eval/results/<run>.jsonl

Labels (eval/labels.py ``HumanLabel``: run, question, answer label, citations ok, labeller, date) live in
``data/labels/``, one file per labelling pass. Each label is checked against the committed answer it
grades (``answer_sha``): a label for a different answer text is an error, not a silent mismatch.

Kappa is reported overall (three classes) and per verdict class (that class against the rest), with the
raw agreement and n. The judge's automatic verdicts (a declined answer counted wrong without an LM call)
are left out of judge-labeller agreement: they would inflate it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.labels import HumanLabel, answer_sha, load_labels
from eval.results_export import RESULTS_DIR
from eval.stats import cohen_kappa
from fda.errors import EvalError
from fda.settings import project_root

LABELS_DIR = project_root() / "data" / "labels"
CLASSES = ("correct", "partly", "wrong")
FACT_CLASSES = ("stated", "contradicted", "absent")


@dataclass(frozen=True)
class Agreement:
    pair: str
    cls: str  # "all" or one verdict class (that class vs the rest)
    n: int
    observed: float | None
    kappa: float | None


def committed_answers(run_ids: Sequence[str], results_dir: Path = RESULTS_DIR) -> dict[tuple[str, str], dict[str, Any]]:
    """(run id, question id) -> the committed row (answer, judge, metrics) of every named run."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for run_id in run_ids:
        path = results_dir / f"{run_id}.jsonl"
        if not path.is_file():
            raise EvalError(f"labels name run {run_id}, but {path} is not committed", hint="fda eval export RUN_ID")
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out[(run_id, row["question_id"])] = row
    return out


def load_label_files(labels_dir: Path = LABELS_DIR) -> list[HumanLabel]:
    files = sorted(labels_dir.glob("*.jsonl"))
    if not files:
        raise EvalError(f"no label files in {labels_dir}", hint="See docs/evaluation.md, 'Judge validation'.")
    return [lab for f in files for lab in load_labels(f)]


def check_labels(labels: Sequence[HumanLabel], answers: dict[tuple[str, str], dict[str, Any]]) -> None:
    for lab in labels:
        row = answers.get((lab.run_id, lab.question_id))
        if row is None:
            raise EvalError(f"label by {lab.labeller} for {lab.run_id}/{lab.question_id}: no such committed answer")
        if lab.answer_sha and lab.answer_sha != answer_sha(row["answer"]):
            raise EvalError(
                f"label by {lab.labeller} for {lab.run_id}/{lab.question_id} grades a different answer text"
            )


def _pairs_table(name: str, pairs: list[tuple[str, str]], classes: Sequence[str] = CLASSES) -> list[Agreement]:
    rows = [_agree(name, "all", pairs)]
    for cls in classes:
        rows.append(_agree(name, cls, [(a == cls, b == cls) for a, b in pairs]))
    return rows


def _agree(name: str, cls: str, pairs: Sequence[tuple[Any, Any]]) -> Agreement:
    if not pairs:
        return Agreement(name, cls, 0, None, None)
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    observed = sum(1 for x, y in pairs if x == y) / len(pairs)
    return Agreement(name, cls, len(pairs), observed, cohen_kappa(a, b))


def agreement_table(labels: Sequence[HumanLabel], answers: dict[tuple[str, str], dict[str, Any]]) -> list[Agreement]:
    """Labeller-labeller (every pair of labellers over the answers both labelled) and judge-labeller (each
    labeller against the committed judge verdict, automatic ones excluded), overall and per class; pairs with
    nothing in common are left out."""
    by_labeller: dict[str, dict[tuple[str, str], str]] = {}
    for lab in labels:
        by_labeller.setdefault(lab.labeller, {})[(lab.run_id, lab.question_id)] = lab.answer_label
    names = sorted(by_labeller)
    out: list[Agreement] = []
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            shared = sorted(set(by_labeller[first]) & set(by_labeller[second]))
            if shared:  # passes over different answers have nothing to compare
                out += _pairs_table(
                    f"{first} vs {second}", [(by_labeller[first][k], by_labeller[second][k]) for k in shared]
                )
    for name in names:
        pairs = []
        for key, label in sorted(by_labeller[name].items()):
            judge = answers[key].get("judge") or {}
            if judge.get("verdict") and not judge.get("automatic"):
                pairs.append((judge["verdict"], label))
        if pairs:  # a pass over answers no judge graded
            out += _pairs_table(f"judge vs {name}", pairs)
    return out


def fact_agreement_table(
    labels: Sequence[HumanLabel], answers: dict[tuple[str, str], dict[str, Any]]
) -> list[Agreement]:
    """The same for the per-fact verdicts (stated / contradicted / absent) that fact recall and precision
    rest on: labeller pairs, and the judge's fact checks against each labeller (automatic rows excluded)."""
    by_labeller: dict[str, dict[tuple[str, str, int], str]] = {}
    for lab in labels:
        for index, fact in enumerate(lab.facts or []):
            by_labeller.setdefault(lab.labeller, {})[(lab.run_id, lab.question_id, index)] = str(fact)
    names = sorted(by_labeller)
    out: list[Agreement] = []
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            shared = sorted(set(by_labeller[first]) & set(by_labeller[second]))
            pairs = [(by_labeller[first][k], by_labeller[second][k]) for k in shared]
            if pairs:
                out += _pairs_table(f"facts: {first} vs {second}", pairs, FACT_CLASSES)
    for name in names:
        pairs = []
        for (run, qid, index), label in sorted(by_labeller[name].items()):
            judge = answers[(run, qid)].get("judge") or {}
            facts = judge.get("facts") or []
            if not judge.get("automatic") and index < len(facts):
                pairs.append((facts[index], label))
        if pairs:
            out += _pairs_table(f"facts: judge vs {name}", pairs, FACT_CLASSES)
    return out


def scored_with_label(gold: Any, row: dict[str, Any], label: HumanLabel) -> dict[str, float | None]:
    """Every metric of the committed answer ``row`` (eval/results/) with ``label``'s answer label and fact
    verdicts in place of the judge's (``gold``: its GoldQuestion)."""
    from eval.judge import JudgeResult
    from eval.results_export import to_result
    from eval.scoring import score_question

    judge = JudgeResult(verdict=label.answer_label, facts=list(label.facts) if label.facts is not None else None)
    return score_question(gold, to_result(row).output, answers=True, judge=judge)


def label_scored_means(
    labels: Sequence[HumanLabel],
    answers: dict[tuple[str, str], dict[str, Any]],
    metric: str = "answer_score",
    gold_version: str = "v2",
) -> list[dict[str, Any]]:
    """Per run: the mean of ``metric`` over the labelled answers as the run scored them (the embedded judge's
    fact checks) and rescored with each labeller's fact verdicts instead: how far judge noise moves it.
    A declined answer scores without any fact verdict (1 on a row to decline, else 0), so the run's declined
    answers count even where a pass did not label them (label packs leave them out)."""
    from eval.gold import load_all_rows

    rows = {r.id: r for r in load_all_rows(gold_version)}
    out = []
    by_run: dict[str, list[HumanLabel]] = {}
    for lab in labels:
        by_run.setdefault(lab.run_id, []).append(lab)
    for run_id, labs in sorted(by_run.items()):
        record: dict[str, Any] = {"run_id": run_id}
        declined = {k for k, a in answers.items() if k[0] == run_id and a.get("declined") and k[1] in rows}
        keys = sorted({(lab.run_id, lab.question_id) for lab in labs} | declined)
        judged = [answers[k]["metrics"].get(metric) for k in keys]
        record["judge"] = _mean(judged)
        for name in sorted({lab.labeller for lab in labs}):
            values = []
            for lab in labs:
                if lab.labeller != name or lab.question_id not in rows:
                    continue
                scored = scored_with_label(rows[lab.question_id], answers[(lab.run_id, lab.question_id)], lab)
                values.append(scored.get(metric))
            mine = {lab.question_id for lab in labs if lab.labeller == name}
            values.extend(answers[k]["metrics"].get(metric) for k in sorted(declined) if k[1] not in mine)
            record[name] = _mean(values)
        record["n"] = len(keys)
        out.append(record)
    return out


def _mean(values: Sequence[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None
