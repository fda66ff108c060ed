"""programs/trust/installed.py: the installed FastAPI tells an undocumented API from an invented one."""

from __future__ import annotations

import pytest

from programs.trust.installed import accepts, exists, public_member


@pytest.mark.parametrize(
    ("obj", "name", "expected"),
    [
        ("app", "add_api_route", True),
        ("application", "include_router", True),
        ("router", "add_api_route", True),
        ("request", "json", True),
        ("fastapi", "BackgroundTasks", True),
        ("app", "cache", False),
        ("router", "cache_response", False),
        ("request", "sessionx", False),
        ("app", "_private", False),
        ("my_client", "get", False),  # not a FastAPI object: nothing is known about it
    ],
)
def test_exists(obj: str, name: str, expected: bool) -> None:
    assert exists(obj, name) is expected


@pytest.mark.parametrize(
    ("callee", "kwarg", "expected"),
    [
        ("Query", "ge", True),
        ("StaticFiles", "html", True),
        ("include_router", "prefix", True),  # a method of FastAPI and APIRouter
        ("CORSMiddleware", "allow_origins", True),
        ("Depends", "timeout", False),
        ("FastAPI", "strict_mode", False),
        ("add_task", "run_at", False),  # **kwargs go to the task: they prove nothing
        ("not_a_fastapi_name", "x", False),
    ],
)
def test_accepts(callee: str, kwarg: str, expected: bool) -> None:
    assert accepts(callee, kwarg) is expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("read", True),  # UploadFile.read
        ("filename", True),  # set in UploadFile.__init__: an instance attribute, not a class one
        ("add_task", True),
        ("jsonable_encoder", True),  # a function of fastapi.encoders
        ("dependency_overrides", True),  # FastAPI.__init__ annotates it over several lines
        ("save", False),
        ("get_cookie", False),
        ("append", False),  # a deque's, which a FastAPI module imports: not FastAPI's own
        ("_private", False),
    ],
)
def test_public_member(name: str, expected: bool) -> None:
    assert public_member(name) is expected
