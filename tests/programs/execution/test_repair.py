"""The repair of failed code (programs/execution/repair.py) over the real sandbox, with a scripted LM: the
error's own suggestion first (no LM call), then the LM's fix, each kept only when the code then runs and (the
LM's) keeps the routes and names; everything else leaves the answer as it was and says why."""

from __future__ import annotations

from typing import Any

import dspy
import pytest
from dspy.adapters.json_adapter import JSONAdapter
from dspy.utils import DummyLM

from fda.types import Passage
from programs.execution.check import CodeChecker, CodeReport
from programs.execution.repair import CodeRepairer, declared_routes, dropped_names, unfence
from programs.execution.sandbox import Sandbox
from tests.programs.execution.test_check import answer, checker
from tests.programs.test_cited_rag import DeadLM

BROKEN = """from fastapi import FastAPI
from fastapi.middleware.gzip import GzipMiddleware

app = FastAPI()
app.add_middleware(GzipMiddleware, minimum_size=1000)


@app.get("/")
async def root():
    return {"message": "Hello World"}
"""
FIXED = BROKEN.replace("GzipMiddleware", "GZipMiddleware")
# a route that crashes: the error names no fix, only the LM can make one
CRASHES = """from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware

app = FastAPI()
app.add_middleware(GZipMiddleware, minimum_size=1000)


@app.get("/")
async def root():
    return {"ratio": 1 / 0}
"""
MENDED = CRASHES.replace("1 / 0", "1 / 2")
PASSAGE = Passage(
    chunk_id="c1",
    url="https://fastapi.tiangolo.com/advanced/middleware/#gzipmiddleware",
    heading_path=["Advanced Middleware", "GZipMiddleware"],
    text="from fastapi.middleware.gzip import GZipMiddleware\napp.add_middleware(GZipMiddleware, minimum_size=1000)",
    version="0.141.1",
)


def run_repair(
    box: CodeChecker, text: str, fixes: list[str] | None, lm: dspy.BaseLM | None = None, use_lm: bool = True
) -> tuple[Any, CodeReport]:
    report = box.check(text)
    assert report is not None
    if lm is None:  # an empty script: a call the test did not expect fails the test
        lm = DummyLM([{"fixed_code": f} for f in fixes or []], adapter=JSONAdapter())
    with dspy.context(lm=lm, adapter=JSONAdapter()):
        outcome = CodeRepairer(box, use_lm=use_lm).repair("How do I compress responses?", text, report, [PASSAGE])
    return outcome, report


def test_a_misspelt_import_is_respelt_as_the_error_suggests_without_an_lm_call(sandbox: Sandbox) -> None:
    text = answer(BROKEN) + "\nAdd `GzipMiddleware` to compress responses over 1000 bytes [1]. GzipMiddleware stays."
    outcome, before = run_repair(checker(sandbox), text, None, use_lm=False)
    assert before.status == "failed" and "Did you mean: 'GZipMiddleware'?" in before.detail
    assert outcome.accepted and outcome.report.status == "verified"
    assert outcome.answer == answer(FIXED) + (  # code and inline code respelt, the prose's own words not
        "\nAdd `GZipMiddleware` to compress responses over 1000 bytes [1]. GzipMiddleware stays."
    )
    info = outcome.report.repair
    assert info is not None and info["how"] == "suggestion" and info["suggestion"] == "GzipMiddleware -> GZipMiddleware"
    assert "lm_ms" not in info and "repaired once" in outcome.report.summary()


def test_a_name_from_the_wrong_module_is_imported_as_the_docs_do_without_an_lm_call(sandbox: Sandbox) -> None:
    imports = {"OAuth2PasswordRequestForm": "from fastapi.security import OAuth2PasswordRequestForm"}
    box = CodeChecker(sandbox, imports=imports)
    code = (
        "from fastapi import Depends, FastAPI, OAuth2PasswordRequestForm\n\napp = FastAPI()\n\n\n"
        "@app.post('/token')\ndef token(form: OAuth2PasswordRequestForm = Depends()):\n"
        "    return {'user': form.username}\n"
    )
    outcome, before = run_repair(box, answer(code), None, use_lm=False)
    assert before.status == "failed" and "The docs import it as" in before.detail
    assert outcome.accepted and outcome.report.status == "verified"
    assert outcome.info["how"] == "suggestion" and outcome.info["suggestion"] == "import as the docs do"
    assert "from fastapi import Depends, FastAPI\nfrom fastapi.security import OAuth2PasswordRequestForm\n" in (
        outcome.answer
    )


def test_without_the_lm_an_error_that_names_no_fix_is_left_as_it_was(sandbox: Sandbox) -> None:
    text = answer(CRASHES)
    outcome, before = run_repair(checker(sandbox), text, None, use_lm=False)
    assert before.status == "failed" and "ZeroDivisionError" in before.detail
    assert not outcome.accepted and outcome.answer == text and outcome.info["why"] == "the error names no fix"


def test_a_crash_fixed_by_the_model_replaces_the_block_and_runs(sandbox: Sandbox) -> None:
    box = checker(sandbox)
    text = answer(CRASHES) + "\nIt compresses responses over 1000 bytes [1]."
    outcome, before = run_repair(box, text, [MENDED])
    assert before.status == "failed" and "ZeroDivisionError" in before.detail
    assert outcome.accepted
    assert outcome.report.status == "verified"
    assert "1 / 2" in outcome.answer and "1 / 0" not in outcome.answer
    assert outcome.answer.endswith("\nIt compresses responses over 1000 bytes [1].")  # the prose is kept
    assert outcome.answer.count("```") == 2
    info = outcome.report.repair
    assert info is not None and info["accepted"] and info["how"] == "lm" and "ZeroDivisionError" in info["error"]
    assert info["lm_ms"] >= 0 and info["check_ms"] > 0 and info["fixed_code"] == MENDED.rstrip()
    assert "repaired once" in outcome.report.summary()


def test_a_fence_around_the_fix_is_taken_off(sandbox: Sandbox) -> None:
    outcome, _ = run_repair(checker(sandbox), answer(CRASHES), [f"```python\n{MENDED}```"])
    assert outcome.accepted and "```python\n```" not in outcome.answer
    assert outcome.answer.count("```") == 2


def test_a_block_inside_a_list_item_keeps_its_indent(sandbox: Sandbox) -> None:
    indented = "\n".join(("   " + line) if line else "" for line in CRASHES.splitlines())
    text = f"1. Add the middleware [1]:\n\n   ```python\n{indented}\n   ```\n2. Run it."
    outcome, before = run_repair(checker(sandbox), text, [MENDED])
    assert before.status == "failed"
    assert outcome.accepted
    assert '       return {"ratio": 1 / 2}' in outcome.answer
    assert outcome.answer.endswith("   ```\n2. Run it.")


def test_a_fix_that_still_fails_leaves_the_answer_as_it_was(sandbox: Sandbox) -> None:
    still = CRASHES.replace("1 / 0", "1 % 0")
    text = answer(CRASHES)
    outcome, before = run_repair(checker(sandbox), text, [still])
    assert not outcome.accepted and outcome.answer == text
    assert outcome.report.status == "failed" and outcome.report.detail == before.detail
    assert outcome.info["why"] == "the fixed code does not run either"
    assert outcome.info["after"].startswith("failed")
    assert "not kept" in outcome.report.summary()


def test_a_rewrite_is_not_a_repair(sandbox: Sandbox) -> None:
    rewrite = "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\ndef root():\n    return 'hi'\n"
    outcome, _ = run_repair(checker(sandbox), answer(CRASHES), [rewrite])
    assert not outcome.accepted
    assert outcome.info["why"] == (
        "the fix drops names the error does not point at: GZipMiddleware, add_middleware, minimum_size"
    )


def test_a_fix_that_drops_a_route_is_not_kept(sandbox: Sandbox) -> None:
    two = CRASHES + '\n\n@app.post("/items/")\nasync def create():\n    return {}\n'
    outcome, _ = run_repair(checker(sandbox), answer(two), [MENDED])
    assert not outcome.accepted
    assert outcome.info["why"] == "the fix drops routes: POST /items/"


def test_the_same_code_back_is_not_a_repair(sandbox: Sandbox) -> None:
    outcome, _ = run_repair(checker(sandbox), answer(CRASHES), [CRASHES])
    assert not outcome.accepted and outcome.info["why"] == "the model returned the same code"


def test_of_several_blocks_the_one_holding_the_failing_line_is_repaired(sandbox: Sandbox) -> None:
    box = checker(sandbox)
    routes = "@app.get('/items/')\ndef items(q: str = Query(min_length=3):\n    return q\n"
    text = answer("from fastapi import FastAPI, Query\n\napp = FastAPI()") + "\nThen:\n\n" + answer(routes)
    outcome, before = run_repair(box, text, [routes.replace("min_length=3):", "min_length=3)):")])
    assert before.status == "failed" and before.stage == "parse" and "(at `def items" in before.detail
    assert outcome.accepted and outcome.report.status == "verified"
    assert "min_length=3)):" in outcome.answer
    assert outcome.answer.startswith(answer("from fastapi import FastAPI, Query\n\napp = FastAPI()"))


def test_several_blocks_holding_the_failing_line_or_working_code_make_no_lm_call(sandbox: Sandbox) -> None:
    box = checker(sandbox)
    two_blocks = answer(CRASHES) + "\nOr, in a router module:\n\n" + answer(CRASHES.replace("app", "router"))
    outcome, before = run_repair(box, two_blocks, None)  # no scripted output: an LM call would raise
    assert before.status == "failed" and '(at `return {"ratio": 1 / 0}`)' in before.detail
    assert not outcome.info["tried"] and "2 Python blocks and the error does not say" in outcome.info["why"]
    outcome, before = run_repair(box, answer(FIXED), None)
    assert before.status == "verified" and not outcome.info["tried"] and outcome.answer == answer(FIXED)


def test_a_dead_lm_costs_nothing_but_the_try(sandbox: Sandbox) -> None:
    text = answer(CRASHES)
    outcome, _ = run_repair(checker(sandbox), text, None, lm=DeadLM())
    assert not outcome.accepted and outcome.answer == text
    assert outcome.info["tried"] and outcome.info["why"].startswith("the repair's LM call failed")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("```python\nx = 1\n```", "x = 1"),
        ("```\nx = 1\n```\n", "x = 1"),
        ("x = 1\n", "x = 1"),
        ("  ```py\nimport os\nx = 1\n  ```", "import os\nx = 1"),
    ],
)
def test_unfence(text: str, expected: str) -> None:
    assert unfence(text) == expected


def test_routes_and_dropped_names() -> None:
    code = (
        "@app.get('/a')\ndef a(): ...\n@router.post(\"/b/{id}\", status_code=201)\ndef b(): ...\n@app.websocket('/ws')"
    )
    assert declared_routes(code) == {("GET", "/a"), ("POST", "/b/{id}"), ("WEBSOCKET", "/ws")}
    assert dropped_names(BROKEN, FIXED, "") == []  # respelled
    kwarg = "@app.get('/f', filename='x.txt')\ndef f(): ...\n"
    error = "TypeError: get() got an unexpected keyword argument 'filename'"
    assert dropped_names(kwarg, "@app.get('/f')\ndef f(): ...\n", error) == []  # the error names it
    unused = "from typing import Optional\nfrom fastapi import FastAPI\napp = FastAPI(\n"
    assert dropped_names(unused, "from fastapi import FastAPI\napp = FastAPI()\n", "SyntaxError") == []
    names = ["FastAPI", "GzipMiddleware", "add_middleware", "app", "get", "minimum_size", "root"]
    assert dropped_names(BROKEN, "x = 1\n", "") == names
