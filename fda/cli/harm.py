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
        float, typer.Option(min=0.0, max=0.5, help="Share of dev-select's ordinary rows the threshold may refuse.")
    ] = 0.0,
) -> None:
    """Fit on data/harm/ + harmless questions; threshold on dev-select's ordinary rows; the red-team suite's tune
    half reported (its held-out half and the sealed test split are not read). About a minute on 2 cores."""
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
            model = train_harm(
                encoder,
                encoder_id=model_id(default_model_path()),
                out=out or HARM_MODEL,
                l2=l2,
                max_false=max_false,
                tick=lambda: bar.advance(task),
            )
    except FDAError as err:
        fail(err)
    console.print(f"wrote {out or HARM_MODEL} (threshold {model.threshold})")
    for key in ("train", "dev_select_ordinary", "redteam_tune"):
        console.print(f"{key}:", json.dumps(model.info[key]))


@harm_app.command("check")
def check_cmd(questions: Annotated[list[str], typer.Argument(help="One or more requests.")]) -> None:
    """p(harmless) of each request and the classifier's decision."""
    from fda.console import console, fail
    from programs.trust.checks import HARM_MODEL
    from programs.trust.harm import HarmGate
    from programs.trust.scope import ScopeModel

    s = get_settings()
    try:
        gate = HarmGate(question_encoder(), ScopeModel.load(s.answer.harm_model or HARM_MODEL))
    except FDAError as err:
        fail(err)
    for q in questions:
        d = gate.check(q)
        console.print(f"{'refused  ' if d.harmful else 'harmless '} p_harmless={d.p_harmless:.3f}  {q}")
