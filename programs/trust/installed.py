"""The installed FastAPI's public API, to tell an API the docs never show from one that does not exist.

    exists("app", "add_api_route")      # True: a method of FastAPI, though the docs may never call it
    exists("app", "cache")              # False: ``@app.cache(ttl=60)`` is invented
    public_member("read")               # True: ``UploadFile.read``; public_member("save") -> False
    accepts("StaticFiles", "html")      # True: a parameter of its signature
    accepts("add_task", "run_at")       # False: ``**kwargs`` go to the task, not to FastAPI

The premise check (premise.py) flags what the docs do not show *and* this does not know: an undocumented but
real API is not a false premise, and declining it would refuse a fair question. Only names imported from
``fastapi`` (and its submodules the docs import from) and the methods of its app, router, request, response
and background-task objects count; a parameter only when the signature names it (``**kwargs`` accepts
anything, so it proves nothing).
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections import defaultdict
from collections.abc import Callable
from functools import lru_cache

from programs.trust.vocabulary import OBJECTS

# modules the docs import FastAPI's names from
MODULES = (
    "fastapi", "fastapi.responses", "fastapi.security", "fastapi.staticfiles", "fastapi.templating",
    "fastapi.middleware.cors", "fastapi.middleware.gzip", "fastapi.middleware.trustedhost",
    "fastapi.middleware.httpsredirect", "fastapi.encoders", "fastapi.exceptions", "fastapi.openapi.utils",
    "fastapi.openapi.docs", "fastapi.routing", "fastapi.concurrency", "fastapi.websockets", "fastapi.params",
)  # fmt: skip
CLASSES = {  # FastAPI's objects (by the name vocabulary.OBJECTS gives each) -> their class
    "app": "FastAPI", "router": "APIRouter", "request": "Request", "response": "Response",
    "background_tasks": "BackgroundTasks", "BackgroundTasks": "BackgroundTasks",
}  # fmt: skip


# ``self.x = ...`` or ``self.x: T = ...``, the annotation on several lines included (``self.dependency_overrides:
# Annotated[\n ...] = {}``)
_SELF_ATTR = re.compile(r"\bself\.([A-Za-z_]\w*)\s*(?::[^=]+?)?=(?!=)")


@lru_cache(maxsize=16)
def _instance_attributes(name: str) -> frozenset[str]:
    """What the class ``name`` and its bases assign to ``self`` (``self.redoc_url = redoc_url``): attributes an
    instance has that the class itself does not."""
    cls = _surface()[0][name]
    out: set[str] = set()
    for base in cls.__mro__:
        try:
            out.update(_SELF_ATTR.findall(inspect.getsource(base)))
        except (OSError, TypeError):  # builtins, C extensions
            continue
    return frozenset(out)


@lru_cache(maxsize=1)
def _surface() -> tuple[dict[str, type], dict[str, list[Callable[..., object]]]]:
    """(class name -> class, callable name -> callables of that name) of the installed FastAPI."""
    classes: dict[str, type] = {}
    callables: dict[str, list[Callable[..., object]]] = defaultdict(list)
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except Exception:  # an optional dependency missing (jinja2 for templating): that module's names only
            continue
        for attr, value in vars(module).items():
            if attr.startswith("_") or not callable(value):
                continue
            if inspect.isclass(value):
                classes.setdefault(attr, value)
            callables[attr].append(value)
    for cls in list(classes.values()):
        for attr, value in inspect.getmembers(cls, callable):
            if not attr.startswith("_"):
                callables[attr].append(value)
    return classes, dict(callables)


def exists(obj: str, name: str) -> bool:
    """Is ``name`` a public attribute of the FastAPI object ``obj`` names (``app``, ``router``, ``request``)?"""
    if name.startswith("_"):
        return False
    if obj == "fastapi":
        return hasattr(importlib.import_module("fastapi"), name)
    cls = CLASSES.get(OBJECTS.get(obj, obj), "")
    if cls not in _surface()[0]:
        return False
    return hasattr(_surface()[0][cls], name) or name in _instance_attributes(cls)


def public_member(name: str) -> bool:
    """Is ``name`` a public function of FastAPI, or a public attribute or method of any of its classes
    (``read`` of ``UploadFile``, ``add_task``, ``url_for``)? ``save`` is none of them."""
    if name.startswith("_"):
        return False
    classes = _own_classes()
    if any(hasattr(cls, name) for cls in classes) or name in _init_attributes():  # ``self.filename = filename``
        return True
    return any(_own(fn) for fn in _surface()[1].get(name, ()))  # a function of FastAPI's (or Starlette's) own


def _own(obj: object) -> bool:
    return str(getattr(obj, "__module__", "") or "").split(".")[0] in {"fastapi", "starlette"}


@lru_cache(maxsize=1)
def _own_classes() -> tuple[type, ...]:
    """FastAPI's and Starlette's classes among the names FastAPI's modules hold (not ``deque`` or ``PurePath``,
    which they merely import)."""
    return tuple(cls for cls in _surface()[0].values() if _own(cls))


@lru_cache(maxsize=1)
def _init_attributes() -> frozenset[str]:
    """What the ``__init__`` of every FastAPI class (and its bases) assigns to ``self``: reading each ``__init__``
    alone is a tenth of the time of reading whole classes (``_instance_attributes``), for nearly the same names."""
    out: set[str] = set()
    for cls in _own_classes():
        for base in cls.__mro__:
            init = base.__dict__.get("__init__")
            if not inspect.isfunction(init):
                continue
            try:
                out.update(_SELF_ATTR.findall(inspect.getsource(init)))
            except (OSError, TypeError):
                continue
    return frozenset(n for n in out if not n.startswith("_"))


def accepts(callee: str, kwarg: str) -> bool:
    """Does a FastAPI callable of that name (``Query``, ``StaticFiles``, ``app.include_router``) name ``kwarg``
    among its parameters?"""
    for fn in _surface()[1].get(callee, ()):
        try:
            params = inspect.signature(fn).parameters
        except (TypeError, ValueError):  # a builtin without a signature
            continue
        param = params.get(kwarg)
        if param is not None and param.kind not in (param.VAR_KEYWORD, param.VAR_POSITIONAL):
            return True
    return False
