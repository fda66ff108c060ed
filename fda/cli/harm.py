"""``fda harm``: train the harm classifier (optimizers/harm.py) and try it on a request (docs/security.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from fda.cli.scope import question_encoder
from fda.errors import FDAError
from fda.settings import get_settings

harm_app = typer.Typer(
    help="The harm classifier: does a request ask for help causing harm? (docs/security.md)", no_args_is_help=True
)


@harm_app.command("train")
def train_cmd(
    out: Annotated[Path | None, typer.Option(help="Where to write (default: data/harm/model.json).")] = None,
    l2: Annotated[float, typer.Option(min=0.0, help="L2 penalty of the logistic regression.")] = 1.0,
    max_false: Annotated[
        float,
        typer.Option(min=0.0, max=0.5, help="Share of out-of-fold harmless training rows the threshold may refuse."),
    ] = 0.01,
    unsure_share: Annotated[
        float,
        typer.Option(
            min=0.0, max=0.5, help="Share of out-of-fold harmless training rows below the unsure band's top (LM check)."
        ),
    ] = 0.05,
) -> None:
    """Fit the vector and n-gram models on data/harm/ + harmless questions; threshold and unsure band from
    out-of-fold rows (none of dev-select's ordinary rows refused); the red-team suite's tune half reported (its
    held-out parts and the sealed test split are not read). About three minutes on 2 cores."""
    from rich.progress import Progress

    from fda.console import console, err_console, fail
    from index.retrieval.dense import model_id
    from index.retrieval.layout import default_model_path
    from optimizers.harm import train_harm
    from programs.trust.checks import HARM_MODEL

    try:
        encoder = question_encoder()
        with Progress(console=err_console, transient=True) as bar:
            task = bar.add_task("encoding questions", total=None)
            model, _ = train_harm(
                encoder,
                encoder_id=model_id(default_model_path()),
                out=out or HARM_MODEL,
                l2=l2,
                max_false=max_false,
                unsure_share=unsure_share,
                tick=lambda: bar.advance(task),
            )
    except FDAError as err:
        fail(err)
    console.print(f"wrote {out or HARM_MODEL} (threshold {model.threshold}, unsure below {model.info['unsure_below']})")
    for key in ("train", "out_of_fold", "dev_select_ordinary", "redteam_tune", "redteam_tune_unsure"):
        console.print(f"{key}:", json.dumps(model.info[key]))


@harm_app.command("check")
def check_cmd(questions: Annotated[list[str], typer.Argument(help="One or more requests.")]) -> None:
    """p(harmless) of each request and the classifier's decision (``unsure``: the LM's intent check decides it when
    `answer.harm_judge` is on; this command asks no LM)."""
    from fda.console import console, fail
    from programs.trust.checks import HARM_MODEL
    from programs.trust.harm import load_harm_gate

    s = get_settings()
    try:
        gate = load_harm_gate(question_encoder(), s.answer.harm_model or HARM_MODEL)
    except FDAError as err:
        fail(err)
    for q in questions:
        d = gate.check(q)
        label = "refused  " if d.harmful else "unsure   " if d.unsure else "harmless "
        console.print(f"{label} p_harmless={d.p_harmless:.3f}  {q}")
