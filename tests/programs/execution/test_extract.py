"""From an answer's Markdown to one module to run: blocks, completion with the docs' imports, and the
reasons code cannot run."""

from __future__ import annotations

import ast

from programs.execution.extract import docs_imports, importable, prepare, python_blocks, undefined_names

IMPORTS = {
    "FastAPI": "from fastapi import FastAPI",
    "APIRouter": "from fastapi import APIRouter",
    "HTMLResponse": "from fastapi.responses import HTMLResponse",
    "BaseModel": "from pydantic import BaseModel",
}


def fenced(code: str, lang: str = "python") -> str:
    return f"Do this [1]:\n\n```{lang}\n{code}\n```\n\nThat is all [1]."


def test_only_python_blocks_in_order() -> None:
    answer = (
        "Install it:\n```bash\npip install fastapi\n```\n"
        "```python\nx = 1\n```\n"
        '```json\n{"a": 1}\n```\n'
        "```\nfrom fastapi import FastAPI\napp = FastAPI()\n```\n"
        "```\n$ uvicorn main:app --reload\n```\n"
    )
    assert python_blocks(answer) == ["x = 1", "from fastapi import FastAPI\napp = FastAPI()"]
    assert python_blocks("No code here, only `FastAPI()` inline [1].") == []


def test_blocks_are_joined_and_completed_with_the_docs_imports() -> None:
    answer = (
        "```python\nclass Item(BaseModel):\n    name: str\n```\n"
        "Then [1]:\n```python\n@app.get('/', response_class=HTMLResponse)\ndef home() -> str:\n    return '<b>hi</b>'\n```"
    )
    prepared = prepare(answer, IMPORTS)
    assert prepared.reason == "" and prepared.blocks == 2
    assert prepared.added == [
        "from pydantic import BaseModel",
        "from fastapi.responses import HTMLResponse",
        "from fastapi import FastAPI",
        "app = FastAPI()",
    ]
    compile(prepared.code, "answer", "exec")  # one valid module
    assert prepared.code.index("app = FastAPI()") < prepared.code.index("@app.get")


def test_a_router_snippet_gets_its_router() -> None:
    prepared = prepare(fenced("@router.get('/users')\ndef users():\n    return []"), IMPORTS)
    assert prepared.added == ["from fastapi import APIRouter", "router = APIRouter()"]


def test_names_of_the_readers_own_code_make_it_not_runnable() -> None:
    code = "from fastapi import Depends, FastAPI\napp = FastAPI()\n@app.get('/')\ndef f(db=Depends(get_db)):\n    return fake_items"
    prepared = prepare(fenced(code), IMPORTS)
    assert prepared.reason == "uses names it does not define: `get_db`, `fake_items`"


def test_code_without_an_app_is_still_prepared_to_import() -> None:
    prepared = prepare(fenced("class Item(BaseModel):\n    name: str"), IMPORTS)
    assert prepared.reason == "" and prepared.added == ["from pydantic import BaseModel"]


def test_syntax_errors_excerpts_and_cut_off_code_differ() -> None:
    broken = prepare(
        fenced("from fastapi import FastAPI\napp = FastAPI(\n@app.get('/')\ndef f(): return 1\nx = = 2"), IMPORTS
    )
    assert broken.syntax_error.startswith("SyntaxError") and broken.reason == ""
    excerpt = prepare(fenced("    return {'a': 1}\n"), IMPORTS)
    assert excerpt.reason.startswith("an excerpt")
    elided = prepare(fenced("def f(:\n    ...\n"), IMPORTS)
    assert elided.reason.startswith("an excerpt")
    cut = prepare(
        fenced("from fastapi import FastAPI\napp = FastAPI()\n@app.post('/f')\nasync def f(file):\n    if not file:"),
        IMPORTS,
    )
    assert cut.reason == "the code stops mid-statement (cut off)"
    # a body that is there but not indented is a mistake, not a cut
    flat = prepare(fenced("for item in items:\nyield item"), IMPORTS)
    assert flat.syntax_error.startswith("SyntaxError: expected an indented block")


def test_undefined_names_sees_every_binding_kind() -> None:
    tree = ast.parse(
        "import os as o\nfrom x import y\ndef f(a, *b, c=1, **d):\n    global g\n    g = a\n    return [i for i in b]\n"
        "class C: pass\ntry:\n    pass\nexcept E as err:\n    print(err, len(o.sep), y, C, zz)\n"
    )
    assert undefined_names(tree) == ["E", "zz"]


def test_docs_imports_take_the_most_common_line_and_only_installed_packages() -> None:
    texts = [
        "from fastapi import FastAPI, Depends\nfrom typing import Union\n",
        "from fastapi import FastAPI\nfrom fastapi.responses import HTMLResponse\nimport secrets\n",
        "from .models import Item\nfrom not_a_package_here import Thing\n",
    ]
    found = docs_imports(texts)
    assert found["FastAPI"] == "from fastapi import FastAPI"
    assert found["HTMLResponse"] == "from fastapi.responses import HTMLResponse"
    assert found["secrets"] == "import secrets"
    usable = importable(found)
    assert "Thing" not in usable and "Item" not in usable
    assert usable["Depends"] == "from fastapi import Depends"


def test_imports_of_every_block_go_first() -> None:
    answer = (
        "```python\nclass Settings(BaseSettings):\n    name: str = 'x'\n```\n"
        "```python\nfrom pydantic_settings import BaseSettings\nimport os\n\nclass Settings(BaseSettings):\n    name: str = 'y'\n```\n"
        "```python\nfrom fastapi import (\n    FastAPI,\n)\napp = FastAPI()\nfrom pydantic_settings import BaseSettings\n```"
    )
    prepared = prepare(answer, {})
    assert prepared.reason == "" and prepared.added == []
    lines = prepared.code.splitlines()
    assert lines[:2] == ["from pydantic_settings import BaseSettings", "import os"]
    assert prepared.code.count("from pydantic_settings import BaseSettings") == 1
    assert "from fastapi import (\n    FastAPI,\n)" in prepared.code  # a multi-line import moves whole


def test_a_fence_inside_a_list_item_is_dedented_and_future_imports_stay_first() -> None:
    answer = "1. Create the app:\n\n   ```python\n   from __future__ import annotations\n   app = FastAPI()\n   ```\n"
    prepared = prepare(answer, IMPORTS)
    assert prepared.reason == "" and prepared.syntax_error == ""
    lines = prepared.code.splitlines()
    assert lines[0] == "from __future__ import annotations" and lines[1] == "from fastapi import FastAPI"
    compile(prepared.code, "answer", "exec")


def test_only_real_imports_move_up() -> None:
    answer = (
        '```python\nDOC = """\nimport client\n"""\n```\n'
        "```python\nfrom fastapi import (\n    FastAPI,\n)\nimport os\napp = FastAPI()\n```"
    )
    prepared = prepare(answer, {})
    assert prepared.code.startswith("from fastapi import (\n    FastAPI,\n)\nimport os\n")
    assert 'DOC = """\nimport client\n"""' in prepared.code  # inside a string: left where it is


def test_imports_go_to_the_top_of_the_first_python_block_in_its_indent() -> None:
    from programs.execution.extract import with_imports

    lines = ["from typing import Annotated", "from fastapi import FastAPI", "app = FastAPI()"]
    answer = (
        "Install:\n```bash\npip install fastapi\n```\n1. Then:\n   ```python\n   from __future__ import annotations\n"
        "   from fastapi import FastAPI\n   def f(x: Annotated[int, 1]): ...\n   ```\n"
        "```python\ny = 2\n```\n"
    )
    out, added = with_imports(answer, lines)
    assert added == ["from typing import Annotated"]  # FastAPI's import is shown; `app = ...` is no import
    assert "   from __future__ import annotations\n   from typing import Annotated\n   from fastapi import" in out
    assert python_blocks(out)[0].splitlines()[1] == "from typing import Annotated"
    assert ast.parse(python_blocks(out)[0]) and python_blocks(out)[1] == "y = 2"
    assert with_imports(out, lines) == (out, [])  # completed once: nothing more to add
    assert with_imports("No code here.", lines) == ("No code here.", [])


def test_imports_go_after_a_future_import_below_a_comment_and_future_imports_open_the_module() -> None:
    from programs.execution.extract import join_blocks, with_imports

    answer = "```python\n# main.py\nfrom __future__ import annotations\n\nx: Annotated[int, 1] = 1\n```"
    out, added = with_imports(answer, ["from typing import Annotated"])
    assert added == ["from typing import Annotated"]
    assert python_blocks(out)[0].splitlines()[:3] == [
        "# main.py",
        "from __future__ import annotations",
        "from typing import Annotated",
    ]
    joined = join_blocks(["import os\nfrom __future__ import annotations\nx = 1", "import sys\ny = 2"])
    assert joined.splitlines()[0] == "from __future__ import annotations"
    assert ast.parse(joined) and joined.count("from __future__") == 1
