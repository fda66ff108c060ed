"""The ``fda`` command line: one entry point, thin commands over the packages. Each ``fda <group>`` is one
module of this package (typer only: options in, tables out); what a command assembles lives in the
packages' ``session`` modules (eval/session.py, optimizers/session.py) or their own facades.

    fda --help
    fda ingest && fda index && fda ask "How do I enable CORS?"
"""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from fda.cli.bench import bench_app
from fda.cli.corpus import corpus_app, ingest_cmd
from fda.cli.cost import cost_cmd
from fda.cli.eval import eval_app
from fda.cli.finetune import finetune_app
from fda.cli.gold import gold_app
from fda.cli.harm import harm_app
from fda.cli.index import index_cmd, search_cmd, train_retriever_cmd
from fda.cli.mcp import mcp_cmd
from fda.cli.models import models_app
from fda.cli.programs import compile_cmd, programs_app
from fda.cli.questions import gen_questions_cmd
from fda.cli.scope import scope_app
from fda.cli.serve import agent_cmd, ask_cmd, serve_cmd
from fda.cli.trace import trace_cmd
from fda.cli.ui import ui_cmd
from fda.console import fail
from fda.env import apply_offline_defaults
from fda.errors import ConfigError
from fda.log import setup_logging
from fda.settings import describe_invalid, get_settings

app = typer.Typer(
    help="FastAPI Docs Assistant: cited answers from the FastAPI docs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("ingest")(ingest_cmd)
app.add_typer(corpus_app, name="corpus")
app.add_typer(gold_app, name="gold")
app.command("index")(index_cmd)
app.command("search")(search_cmd)
app.command("cost")(cost_cmd)
app.command("train-retriever")(train_retriever_cmd)
app.command("gen-questions")(gen_questions_cmd)
app.add_typer(models_app, name="models")
app.command("serve")(serve_cmd)
app.command("ask")(ask_cmd)
app.command("agent")(agent_cmd)
app.command("trace")(trace_cmd)
app.command("mcp")(mcp_cmd)
app.add_typer(eval_app, name="eval")
app.command("compile")(compile_cmd)
app.add_typer(programs_app, name="programs")
app.add_typer(bench_app, name="bench")
app.add_typer(scope_app, name="scope")
app.add_typer(harm_app, name="harm")
app.add_typer(finetune_app, name="finetune")
app.command("ui")(ui_cmd)


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs.")] = False) -> None:
    try:
        s = get_settings()
    except ValidationError as err:  # one clear line per bad variable instead of pydantic's traceback
        fail(
            ConfigError(
                f"invalid settings: {describe_invalid(err)}",
                hint="Fix or unset those variables (environment or .env); the README's Configuration section "
                "and the docs it links list the allowed values.",
            )
        )
    apply_offline_defaults(s.state_dir)
    setup_logging("DEBUG" if verbose else s.logging.level, s.logging.json_logs)


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
