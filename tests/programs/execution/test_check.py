"""An answer's code run for real in the sandbox: verified, failed (with the error), not runnable, not run;
the docs example it came from; a report the answer's own code cannot forge."""

from __future__ import annotations

from programs.execution.check import CodeChecker
from programs.execution.examples import DocsExamples
from programs.execution.sandbox import Sandbox, SandboxLimits, SandboxResult

IMPORTS = {
    "FastAPI": "from fastapi import FastAPI",
    "BaseModel": "from pydantic import BaseModel",
    "Request": "from fastapi import Request",
}
CORS_EXAMPLE = """from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

app = FastAPI()

origins = [
    "http://localhost.tiangolo.com",
    "https://localhost.tiangolo.com",
]

app.add_middleware(
    CORSMiddleware,
    allow_origins=origins,
    allow_credentials=True,
)


@app.get("/")
async def main():
    return {"message": "Hello World"}
"""


def answer(code: str) -> str:
    return f"Here is how [1]:\n\n```python\n{code}\n```\n"


def checker(sandbox: Sandbox, examples: DocsExamples | None = None) -> CodeChecker:
    return CodeChecker(sandbox, imports=IMPORTS, examples=examples)


def test_a_working_app_is_verified_route_by_route(sandbox: Sandbox) -> None:
    code = (
        "class Item(BaseModel):\n    name: str\n    price: float\n\n"
        "@app.get('/items/{item_id}')\ndef read(item_id: int, q: str | None = None):\n    return {'id': item_id}\n\n"
        "@app.post('/items/', status_code=201)\ndef create(item: Item):\n    return item\n"
    )
    report = checker(sandbox).check(answer(code))
    assert report is not None and report.status == "verified", report
    assert report.added == ["from pydantic import BaseModel", "from fastapi import FastAPI", "app = FastAPI()"]
    assert [(r["method"], r["path"], r["status"]) for r in report.routes] == [
        ("GET", "/items/{item_id}", 200),
        ("POST", "/items/", 201),
    ]
    import fastapi

    assert report.ms > 0 and report.fastapi == fastapi.__version__
    assert report.summary().startswith(f"code verified on FastAPI {fastapi.__version__} (2 routes answered)")


def test_verified_code_shows_the_imports_it_needed(sandbox: Sandbox) -> None:
    """The cookie answer of session 32 used `Annotated` without importing it: the check ran it with the import,
    and the answer the user copies now has it too. A prediction declined or cut short is not touched."""
    import dspy

    code = "@app.get('/items/')\ndef read(ads_id: Annotated[str | None, Cookie()] = None):\n    return {'ads_id': ads_id}\n"
    imports = {**IMPORTS, "Annotated": "from typing import Annotated", "Cookie": "from fastapi import Cookie"}
    check = CodeChecker(sandbox, imports=imports)
    pred = dspy.Prediction(answer=answer(code), fallback=False, refused=False, cannot_answer=False)
    report = check.check_prediction(pred)
    assert report is not None and report.status == "verified", report
    assert report.imports_shown == ["from typing import Annotated", "from fastapi import Cookie"]
    assert "from fastapi import FastAPI" in report.added  # the check made `app`; that line is not shown, so
    assert "from fastapi import FastAPI" not in pred.answer  # its import would not help the code shown
    assert pred.answer.startswith("Here is how [1]:\n\n```python\nfrom typing import Annotated\n")
    assert "app = FastAPI()" not in pred.answer  # not an import: where it goes depends on the code
    assert "imports added to the answer's code: from typing import Annotated" in report.summary()
    again = check.check_prediction(pred)  # the completed answer, cached: its report again, without a second run
    assert again is not None and again.imports_shown == report.imports_shown and again.status == "verified"
    declined = dspy.Prediction(answer=answer(code), fallback=False, refused=True, cannot_answer=False)
    assert check.check_prediction(declined) is None and declined.answer == answer(code)


def test_a_route_that_crashes_fails_with_its_error(sandbox: Sandbox) -> None:
    code = "from fastapi import FastAPI, Request\napp = FastAPI()\n\n@app.post('/raw')\ndef raw(request: Request):\n    return request.body.decode()\n"
    report = checker(sandbox).check(answer(code))
    assert report is not None and report.status == "failed" and report.stage == "routes"
    assert report.detail.startswith("POST /raw answered 500: AttributeError") and report.detail.endswith(
        "(at `return request.body.decode()`)"
    )


def test_a_made_up_import_fails_at_import(sandbox: Sandbox) -> None:
    code = "from fastapi import FastAPI\nfrom fastapi.middleware.gzip import GzipMiddleware\napp = FastAPI()\napp.add_middleware(GzipMiddleware)\n"
    report = checker(sandbox).check(answer(code))
    assert report is not None and (report.status, report.stage) == ("failed", "import")
    assert "cannot import name 'GzipMiddleware'" in report.detail


def test_a_parameter_fastapi_cannot_read_fails_with_fastapis_error(sandbox: Sandbox) -> None:
    code = "from fastapi import FastAPI\napp = FastAPI()\n\nclass Session:\n    pass\n\n@app.get('/x')\ndef x(db: Session):\n    return 1\n"
    report = checker(sandbox).check(answer(code))
    assert report is not None and (report.status, report.stage) == ("failed", "import")
    assert report.detail.startswith("FastAPIError: Invalid args for response field")


def test_code_without_an_app_is_imported_so_a_wrong_import_still_fails(sandbox: Sandbox) -> None:
    fine = checker(sandbox).check(answer("class Item(BaseModel):\n    name: str\n    price: float = 0"))
    assert fine is not None and (fine.status, fine.stage) == ("not_runnable", "app")
    assert fine.detail == "imports cleanly, but defines no FastAPI app or router to call"
    wrong = checker(sandbox).check(
        answer("from pydantic_settings import BaseSetting\n\nclass S(BaseSetting):\n    x: int = 1")
    )
    assert wrong is not None and (wrong.status, wrong.stage) == ("failed", "import")
    assert "cannot import name 'BaseSetting'" in wrong.detail


def test_what_the_sandbox_lacks_is_not_the_codes_fault(sandbox: Sandbox) -> None:
    ck = checker(sandbox)
    package = ck.check(answer("from jose import jwt\nfrom fastapi import FastAPI\napp = FastAPI()"))
    assert package is not None and package.status == "not_runnable" and package.detail.startswith("needs `jose`")
    made_up = ck.check(answer("from fastapi.magic import Wand\napp = FastAPI()"))
    assert made_up is not None and made_up.status == "failed" and "fastapi.magic" in made_up.detail
    client = ck.check(answer("import urllib.request\nurllib.request.urlopen('http://localhost:8000/items', timeout=2)"))
    assert client is not None and client.status == "not_runnable" and client.detail.startswith("needs the network")
    settings = ck.check(
        answer(
            "from pydantic_settings import BaseSettings\n\nclass Settings(BaseSettings):\n    admin_email: str\n\nsettings = Settings()"
        )
    )
    assert settings is not None and settings.status == "not_runnable"
    assert settings.detail.startswith("needs settings from the environment")


def test_what_the_readers_machine_has_is_not_held_against_the_code(sandbox: Sandbox) -> None:
    ck = checker(sandbox)
    lookup = ck.check(
        answer(
            "from fastapi import FastAPI\napp = FastAPI()\nitems = {'foo': {'name': 'Foo'}}\n\n"
            "@app.get('/items/{item_id}')\nasync def read(item_id: str):\n    return items[item_id]\n"
        )
    )
    assert lookup is not None and lookup.status == "verified"
    assert (
        lookup.detail
        == "GET /items/{item_id}: KeyError: 'x' (at `return items[item_id]`) (a lookup of the made-up test input; not counted)"
    )
    static = ck.check(
        answer(
            "from fastapi import FastAPI\nfrom fastapi.staticfiles import StaticFiles\napp = FastAPI()\n"
            "app.mount('/static', StaticFiles(directory='static'), name='static')\n"
        )
    )
    assert static is not None and static.status == "not_runnable"
    assert static.detail.startswith("needs files or folders it does not create: RuntimeError: Directory 'static'")
    relative = ck.check(answer("from fastapi import FastAPI\nfrom .dependencies import get_token\napp = FastAPI()"))
    assert relative is not None and relative.status == "not_runnable"
    assert relative.detail.startswith("imports from the reader's own package")


def test_a_keyerror_without_sample_input_is_the_codes_own(sandbox: Sandbox) -> None:
    code = "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/')\ndef f():\n    return {'a': 1}['b']\n"
    report = checker(sandbox).check(answer(code))
    assert report is not None and report.status == "failed" and "KeyError: 'b'" in report.detail


def test_a_report_of_the_wrong_shape_is_no_report(sandbox: Sandbox) -> None:
    from programs.execution.check import _read_report

    nonce = "n0"
    good = '@@fda-code-check@@n0{"stage": "routes", "ok": true, "routes": [{"method": "GET", "path": "/", "status": 200, "error": ""}], "error": ""}'
    assert _read_report(good, nonce) is not None
    for bad in ('{"routes": [1], "ok": true}', '{"routes": "x"}', "[1, 2]", '{"routes": [], "error": 5}'):
        assert _read_report("@@fda-code-check@@n0" + bad, nonce) is None
    assert _read_report(good.replace("n0", "n1"), nonce) is None


def test_not_run_is_not_remembered() -> None:
    calls = []

    class Busy(Sandbox):
        def run(self, source: str, stdin: str = "") -> SandboxResult:
            calls.append(1)
            raise OSError("no more processes")

    ck = checker(Busy(mode="root"))
    text = answer("from fastapi import FastAPI\napp = FastAPI()")
    assert ck.check(text) is not None and ck.check(text).status == "not_run"  # type: ignore[union-attr]
    assert len(calls) == 2


def test_the_answers_code_cannot_forge_the_report(sandbox: Sandbox) -> None:
    forged = '@@fda-code-check@@{"stage": "routes", "ok": true, "routes": [], "error": ""}'
    code = (
        f"import atexit\nprint({forged!r})\natexit.register(lambda: print({forged!r}))\n"
        "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/')\ndef boom():\n    return 1 / 0\n"
    )
    report = checker(sandbox).check(answer(code))
    assert report is not None and report.status == "failed" and "ZeroDivisionError" in report.detail


def test_an_endless_route_is_not_runnable_not_failed(sandbox: Sandbox) -> None:
    code = (
        "import time\nfrom fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/')\ndef slow():\n    time.sleep(60)\n"
    )
    quick = Sandbox(SandboxLimits(timeout_s=2), hide=sandbox.hide, mode=sandbox.mode)
    report = checker(quick).check(answer(code))
    assert report is not None and report.status == "not_runnable" and "did not finish" in report.detail


def test_no_code_no_report_and_fragments_never_reach_the_sandbox() -> None:
    class Refuses(Sandbox):
        def run(self, source: str, stdin: str = "") -> SandboxResult:
            raise AssertionError("a fragment was run")

    ck = checker(Refuses(mode=None))
    assert ck.check("Use `CORSMiddleware` [1].") is None
    report = ck.check(answer("    return item"))
    assert report is not None and report.status == "not_runnable"


def test_without_a_sandbox_the_code_is_not_run() -> None:
    report = checker(Sandbox(mode=None)).check(answer("from fastapi import FastAPI\napp = FastAPI()"))
    assert report is not None and report.status == "not_run" and "cannot isolate" in report.detail


def test_reports_are_cached_by_answer(sandbox: Sandbox) -> None:
    runs = []

    class Counting(Sandbox):
        def run(self, source: str, stdin: str = "") -> SandboxResult:
            runs.append(stdin)
            return super().run(source, stdin)

    box = Counting(sandbox.limits, hide=sandbox.hide, mode=sandbox.mode)
    ck = checker(box)
    text = answer("from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/')\ndef root():\n    return {}")
    first, second = ck.check(text, "0.141.1"), ck.check(text, "0.141.1")
    assert first == second and first is not None and first.status == "verified" and len(runs) == 1


def test_a_docs_example_is_named_and_linked(sandbox: Sandbox) -> None:
    examples = DocsExamples(
        [
            ("0.141.1", "docs_src/cors/tutorial001_py39.py", CORS_EXAMPLE),
            ("0.100.0", "docs_src/cors/tutorial001.py", CORS_EXAMPLE),
            (
                "0.141.1",
                "docs_src/other/tutorial001.py",
                "app = FastAPI()\n\n@app.get('/other')\nasync def other():\n    pass\n",
            ),
        ]
    )
    report = checker(sandbox, examples).check(answer(CORS_EXAMPLE), version="0.100.0")
    assert report is not None and report.status == "verified"
    assert report.docs_example == {
        "path": "docs_src/cors/tutorial001.py",
        "version": "0.100.0",
        "url": "https://github.com/fastapi/fastapi/blob/0.100.0/docs_src/cors/tutorial001.py",
        "share": 1.0,
    }
    assert examples.match("app = FastAPI()\nx = 1\ny = 2\nz = 3") is None  # mostly not the example's lines


def test_runs_at_once_do_not_share_a_process_budget(sandbox: Sandbox) -> None:
    import threading

    bomb = "import os\nfor _ in range(500):\n    os.fork()"
    box = Sandbox(SandboxLimits(timeout_s=8), hide=sandbox.hide, mode=sandbox.mode)
    ck = checker(box)
    code = "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/')\nasync def root():\n    return {}\n"
    started = threading.Thread(target=box.run, args=(bomb,))
    started.start()
    report = ck.check(answer(code))  # while the other run has spent its 64 processes
    started.join()
    assert report is not None and report.status == "verified", report


def test_a_route_left_as_a_placeholder_is_not_called(sandbox: Sandbox) -> None:
    code = (
        "from fastapi import FastAPI\nfrom pydantic import BaseModel\napp = FastAPI()\n\nclass Item(BaseModel):\n"
        "    name: str\n\n@app.post('/items/')\nasync def create(item: Item):\n    return item\n\n"
        "@app.get('/items/', response_model=list[Item])\nasync def get_items(): ...\n"
    )
    report = checker(sandbox).check(answer(code))
    assert report is not None and report.status == "verified", report
    assert report.detail == "GET /items/: (its body is a placeholder; not called)"
    assert sorted((r["method"], r["status"]) for r in report.routes) == [("GET", 0), ("POST", 200)]


def test_a_check_that_finds_every_slot_taken_says_busy_and_is_asked_again(sandbox: Sandbox) -> None:
    from programs.execution import sandbox as sandbox_module

    taken = [sandbox_module._FREE_UIDS.get() for _ in range(sandbox_module.SLOTS)]
    try:
        quick = Sandbox(SandboxLimits(timeout_s=0.2), hide=sandbox.hide, mode=sandbox.mode)
        ck = checker(quick)
        text = answer("from fastapi import FastAPI\napp = FastAPI()")
        report = ck.check(text)
        assert report is not None and report.status == "not_run" and "busy" in report.detail
        assert not ck._cache  # not remembered: the next ask runs it
    finally:
        for uid in taken:
            sandbox_module._FREE_UIDS.put(uid)


def test_a_failure_says_what_was_probably_meant(sandbox: Sandbox) -> None:
    """Python 3.11 says "Did you mean" only in tracebacks, and never for `from m import Name` or keywords."""
    box = checker(sandbox)
    wrong_import = box.check(answer("from fastapi.middleware.gzip import GzipMiddleware\n\napp = FastAPI()\n"))
    assert wrong_import is not None and wrong_import.status == "failed"
    assert wrong_import.detail.startswith("ImportError: cannot import name 'GzipMiddleware'")
    assert "Did you mean: 'GZipMiddleware'?" in wrong_import.detail
    keyword = box.check(answer("@app.get('/', respons_model=dict)\ndef root():\n    return {}\n"))
    assert keyword is not None and "got an unexpected keyword argument 'respons_model'" in keyword.detail
    assert "Did you mean: 'response_model'?" in keyword.detail
    unknown = box.check(answer("@app.get('/d', filename='x.txt')\ndef d():\n    return {}\n"))
    assert unknown is not None and "(it takes: path, response_model," in unknown.detail
    attribute = box.check(answer("@app.get('/')\ndef root(request: Request):\n    return request.hedaers\n"))
    assert attribute is not None and attribute.status == "failed"
    assert "Did you mean: 'headers'?" in attribute.detail and "(at `return request.hedaers`)" in attribute.detail


def test_a_name_imported_from_the_wrong_module_says_how_the_docs_import_it(sandbox: Sandbox) -> None:
    imports = {**IMPORTS, "OAuth2PasswordRequestForm": "from fastapi.security import OAuth2PasswordRequestForm"}
    box = CodeChecker(sandbox, imports=imports)
    report = box.check(answer("from fastapi import FastAPI, OAuth2PasswordRequestForm\n\napp = FastAPI()\n"))
    assert report is not None and report.status == "failed"
    assert report.detail == (
        "ImportError: cannot import name 'OAuth2PasswordRequestForm' from 'fastapi'. The docs import it as "
        "`from fastapi.security import OAuth2PasswordRequestForm` (at `from fastapi import FastAPI, "
        "OAuth2PasswordRequestForm`)"
    )
    other = box.check(answer("from fastapi import FastAPI, NoSuchThing\n\napp = FastAPI()\n"))
    assert other is not None and "The docs import it" not in other.detail  # the docs do not import it
