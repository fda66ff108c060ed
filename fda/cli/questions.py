"""``fda gen-questions`` (registered by fda/cli/app.py): index/questions/generate.py over the latest docs."""

from __future__ import annotations

import platform
import time
from pathlib import Path
from typing import Annotated

import typer

from fda.errors import FDAError
from fda.settings import get_settings


def gen_questions_cmd(
    model: Annotated[
        str | None, typer.Option(help="The LM: local:<name> or a LiteLLM model string. Default: lm.model.")
    ] = None,
    out: Annotated[
        str | None,
        typer.Option(help="Output folder. Default: data/retriever/<retrieval.questions_artifact> (the committed one)."),
    ] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=16, help="Requests in flight (a local model needs FDA_LM__PARALLEL as many).")
    ] = 1,
    limit: Annotated[int | None, typer.Option(min=1, help="Ask for at most this many sections (a trial).")] = None,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="Start over: move the folder's questions aside (questions.jsonl.bak) instead of resuming. Needed "
            "when the model, the prompt or the corpus changed since those questions were written.",
        ),
    ] = False,
) -> None:
    """Write up to 3 questions per docs section of the latest version (resumes an interrupted run of the same
    model, prompt and corpus)."""
    import dspy
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from fda.console import console, err_console, fail
    from fda.lm.adapter import adapter_for
    from fda.lm.factory import make_lm, model_for, runtime_from_settings
    from fda.lm.registry import get_spec, is_local
    from index.ingest.pipeline import corpus_hash
    from index.questions.generate import (
        DocSection,
        check_provenance,
        generate,
        load_sections,
        pending,
        prompt_hash,
        start_fresh,
        write_manifest,
    )
    from index.retrieval.layout import ARTIFACTS_DIR
    from index.retrieval.passages import resolve_version
    from signatures.section_questions import SEED_EXAMPLES, SectionQuestions, seed_demos

    s = get_settings()
    name = model or model_for(s.lm)
    out_dir = Path(out) if out else ARTIFACTS_DIR / s.retrieval.questions_artifact
    banned = [q for _, qs in SEED_EXAMPLES for q in qs]
    try:
        version = resolve_version(s.db_path, None)
        sections = load_sections(s.db_path, version)
        provenance: dict[str, object] = {
            "model": name,
            "model_sha256": get_spec(name.removeprefix("local:")).sha256 if is_local(name) else None,
            "temperature": s.lm.temperature,
            "prompt_sha": prompt_hash(SectionQuestions.instructions, seed_demos()),
            "version": version,
            "corpus_hash": corpus_hash(s.db_path),
        }
        if fresh:
            start_fresh(out_dir)
        check_provenance(out_dir, provenance)
        already, todo = pending(sections, out_dir, limit)
        if not todo:
            console.print(
                f"All {already} sections of {version} already have questions in {out_dir}: nothing to ask "
                "(--fresh starts over)."
            )
            return
        write_manifest(out_dir, {**provenance, "status": "running"})
        predict = dspy.Predict(SectionQuestions)
        predict.demos = seed_demos()
        t0 = time.perf_counter()
        with runtime_from_settings(s, progress=True) as runtime:
            lm = make_lm(s.lm, runtime=runtime, model=name)
            adapter = adapter_for(lm)

            def ask(section: DocSection) -> list[str]:
                with dspy.context(lm=lm, adapter=adapter):
                    return list(predict(section=section.prompt()).questions or [])

            columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
            with Progress(*columns, console=err_console) as bar:
                task = bar.add_task(f"questions ({name})", total=already + len(todo), completed=already)
                try:
                    counts = generate(
                        sections,
                        ask,
                        out_dir,
                        workers=workers,
                        banned=banned,
                        on_done=lambda n: bar.advance(task, n),
                        limit=limit,
                    )
                except (FDAError, KeyboardInterrupt) as stop:
                    write_manifest(out_dir, {**provenance, "status": f"stopped: {type(stop).__name__}"})
                    raise
        seconds = time.perf_counter() - t0
        info: dict[str, object] = {
            **provenance,
            "status": "complete"
            if counts["already"] + counts["asked"] - counts["failed"] == len(sections)
            else "partial",
            "sections_in_version": len(sections),
            "last_run": {
                **counts,
                "seconds": round(seconds, 1),
                "workers": workers,
                "machine": f"{platform.machine()}, {platform.python_version()}",
            },
        }
        manifest = write_manifest(out_dir, info)
    except FDAError as err:
        fail(err)
        return
    console.print(
        f"{counts['asked']} section(s) asked in {seconds:.0f} s ({counts['failed']} failed, {counts['empty']} empty); "
        f"{counts['already']} already done. Manifest: {manifest}"
    )
    if counts["failed"]:
        err_console.print(f"{counts['failed']} section(s) got no answer: rerun the same command to ask them again.")
        raise typer.Exit(1)
