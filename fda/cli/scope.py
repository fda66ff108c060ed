"""``fda scope``: train the scope gate (optimizers/scope.py) and try it on a question (docs/trust.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from fda.errors import FDAError
from fda.settings import get_settings

scope_app = typer.Typer(help="The scope gate: is a question about FastAPI? (docs/trust.md)", no_args_is_help=True)


def question_encoder():  # type: ignore[no-untyped-def]
    from index.retrieval.factory import open_retriever
    from programs.trust.checks import find_encoder

    encoder = find_encoder(open_retriever("dense", get_settings()))
    if encoder is None:  # pragma: no cover - the dense backend always holds one
        raise FDAError("the dense retriever has no query encoder")
    return encoder


@scope_app.command("train")
def train_cmd(
    out: Annotated[Path | None, typer.Option(help="Where to write (default: data/scope/model.json).")] = None,
    l2: Annotated[float, typer.Option(min=0.0, help="L2 penalty of the logistic regression.")] = 1.0,
    k_in: Annotated[int, typer.Option(min=1, help="Centroids of the in-scope questions.")] = 256,
    k_out: Annotated[int, typer.Option(min=1, help="Centroids of the out-of-scope questions.")] = 64,
    max_over_refusal: Annotated[
        float, typer.Option(min=0.0, max=0.5, help="Share of dev-select's answerable rows the threshold may decline.")
    ] = 0.02,
    max_oof: Annotated[
        float,
        typer.Option(
            min=0.0, max=0.5, help="Share of user-style in-scope training rows, scored out of fold, it may decline."
        ),
    ] = 0.01,
) -> None:
    """Fit the gate (MiniLM-vector model + word n-gram model) on gold v2 train + data/scope/ (not the passes kept to
    measure it, nor the real questions' check half) + the generated section questions; the threshold from out-of-fold
    p and from dev-select pooled with data/scope/real-fastapi-2.jsonl, the lower (about 4 minutes on 2 cores; the
    sealed test split is not read)."""
    from rich.progress import Progress

    from fda.console import console, err_console, fail
    from index.retrieval.dense import model_id
    from index.retrieval.layout import default_model_path
    from optimizers.scope import train_scope
    from programs.trust.checks import SCOPE_MODEL

    try:
        encoder = question_encoder()
        with Progress(console=err_console, transient=True) as bar:
            task = bar.add_task("encoding questions", total=None)
            model = train_scope(
                encoder,
                encoder_id=model_id(default_model_path()),
                out=out or SCOPE_MODEL,
                l2=l2,
                k_in=k_in,
                k_out=k_out,
                max_over_refusal=max_over_refusal,
                max_oof=max_oof,
                tick=lambda: bar.advance(task),
            )
    except FDAError as err:
        fail(err)
    console.print(f"wrote {out or SCOPE_MODEL} (threshold {model.threshold})")
    console.print("train:", json.dumps(model.info["train"]))
    console.print("out of fold:", json.dumps(model.info["out_of_fold"]))
    console.print("dev-select:", json.dumps(model.info["dev_select"]))
    console.print("real questions under the cap:", json.dumps(model.info["calibration"]))


@scope_app.command("check")
def check_cmd(questions: Annotated[list[str], typer.Argument(help="One or more questions.")]) -> None:
    """p(in scope) of each question and the gate's decision."""
    from fda.console import console, fail
    from programs.trust.checks import SCOPE_MODEL
    from programs.trust.scope import load_scope_gate

    s = get_settings()
    try:
        gate = load_scope_gate(question_encoder(), s.answer.scope_model or SCOPE_MODEL)
    except FDAError as err:
        fail(err)
    for q in questions:
        d = gate.check(q)
        console.print(f"{'in scope ' if d.in_scope else 'declined '} p={d.p_in_scope:.3f}  {q}")


@scope_app.command("eval")
def eval_cmd(
    split: Annotated[str, typer.Option(help="Gold v2 split: train, dev-select or dev-confirm (test is sealed).")] = (
        "dev-confirm"
    ),
) -> None:
    """The committed gate on a gold v2 split: over-refusal of its answerable rows, out-of-scope rows declined."""
    from eval.gold import load_gold
    from fda.console import console, fail
    from optimizers.scope import dev_rates
    from programs.trust.checks import SCOPE_MODEL
    from programs.trust.scope import load_scope_gate

    s = get_settings()
    try:
        if split not in ("train", "dev-select", "dev-confirm", "test"):
            raise FDAError(f"unknown split {split!r}", hint="Use train, dev-select or dev-confirm.")
        rows = load_gold("v2", split)  # type: ignore[arg-type]  # checked above; test raises SealedSplitError
        gate = load_scope_gate(question_encoder(), s.answer.scope_model or SCOPE_MODEL)
    except FDAError as err:
        fail(err)
    p = [gate.check(r.question).p_in_scope for r in rows]
    console.print(f"{split} ({len(rows)} rows, threshold {gate.model.threshold}):")
    console.print(json.dumps(dev_rates(rows, p, gate.model.threshold)))


@scope_app.command("heldout")
def heldout_cmd(
    show: Annotated[int, typer.Option(help="List this many wrong decisions per file.")] = 10,
) -> None:
    """The committed gate on the user-style questions it was never trained on: data/scope/heldout-*.jsonl (written
    with positives-2 / negatives-2, split from them by hash), the written passes kept to measure it (*-7 to
    -11.jsonl, each by a writer who saw no file here) and the ``check`` half of the real questions
    (real-fastapi.jsonl): wrong decisions per kind."""
    from fda.console import console, fail
    from optimizers.scope import (
        HELDOUT_NEGATIVES,
        HELDOUT_POSITIVES,
        MEASURE_PASSES,
        REAL_QUESTIONS,
        heldout_rates,
        pass_files,
    )
    from programs.trust.checks import SCOPE_MODEL
    from programs.trust.scope import load_scope_gate

    s = get_settings()
    try:
        gate = load_scope_gate(question_encoder(), s.answer.scope_model or SCOPE_MODEL)
    except FDAError as err:
        fail(err)
    trained = {origin.split(":")[0] for origin in gate.model.info.get("training", {})}
    files = [(HELDOUT_POSITIVES, True), (HELDOUT_NEGATIVES, False)]
    for n in MEASURE_PASSES:
        if f"scope-pass-{n}" in trained:  # a model trained on it (train_scope(passes=...)): not held out for it
            console.print(f"pass {n}: left out, the model was trained on it")
            continue
        for f in pass_files(n):
            if f[0].is_file():
                files.append(f)
            else:
                console.print(f"[yellow]{f[0]} is missing: restore it with git checkout[/yellow]")
    checks: list[tuple[Path, bool, str | None]] = [(path, in_scope, None) for path, in_scope in files]
    if REAL_QUESTIONS.is_file():
        checks.append((REAL_QUESTIONS, True, "check"))  # the `cal` half set the threshold: not a measurement
    for path, in_scope, half in checks:
        report = heldout_rates(gate, path, in_scope, half)
        name = f"{path.name} ({half} half)" if half else path.name
        console.print(
            f"{name}: {report['wrong']} of {report['n']} wrong ({report['rate']:.3f}); per kind {report['per_kind']}"
        )
        for p_in, kind, question in report["errors"][:show]:
            console.print(f"  p={p_in:.3f} {kind}: {question[:100]}")
