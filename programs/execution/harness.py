"""Runs inside the sandbox (sandbox.py): import an answer's code, find its FastAPI app, call every route.

Reads one JSON object on stdin, ``{"code": "...", "max_routes": 12}``, writes the code to ``answer_code.py``
in its working directory (the sandbox's private tmpfs), imports it, and prints one JSON line after
``MARKER`` and the caller's nonce:

    {"stage": "routes", "ok": true, "app": "app", "routes": [{"method": "GET", "path": "/items/{item_id}",
     "status": 200}], "error": ""}

``stage`` is how far it got: ``import`` (the module failed to import), ``app`` (no FastAPI app or router in
it), ``openapi`` (the app's OpenAPI schema cannot be built: what /docs would show fails), ``routes`` (each
route was called with FastAPI's TestClient; a 5xx is a failure, a 4xx is an answer). Only the standard
library and FastAPI (with its TestClient's httpx) are imported here: never the project.
"""

from __future__ import annotations

import builtins
import difflib
import importlib.util
import json
import os
import re
import sys
import traceback
from typing import Any

MARKER = "@@fda-code-check@@"
SAMPLES: dict[str, Any] = {"integer": 1, "number": 1.5, "boolean": True, "string": "x", "array": [], "object": {}}
STRING_FORMATS = {
    "uuid": "12345678-1234-5678-1234-567812345678",
    "date-time": "2024-01-01T00:00:00",
    "date": "2024-01-01",
    "time": "12:00:00",
    "email": "user@example.com",
    "uri": "https://example.com",
    "binary": "x",
}


def sample(schema: dict[str, Any], defs: dict[str, Any], depth: int = 0) -> Any:
    """A small value that satisfies a JSON schema as FastAPI writes it (refs, anyOf, enums, required)."""
    if depth > 6:
        return None
    if "$ref" in schema:
        return sample(defs.get(schema["$ref"].rsplit("/", 1)[-1], {}), defs, depth + 1)
    if "example" in schema:
        return schema["example"]
    if schema.get("examples"):
        examples = schema["examples"]
        return examples[0] if isinstance(examples, list) else next(iter(examples.values()), None)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return sample(options[0], defs, depth + 1)
    kind = schema.get("type", "object")
    if kind == "object":
        props = schema.get("properties", {})
        return {name: sample(props[name], defs, depth + 1) for name in schema.get("required", []) if name in props}
    if kind == "array":
        return [sample(schema.get("items", {}), defs, depth + 1)] if schema.get("minItems") else []
    if kind == "string":
        if schema.get("format") in STRING_FORMATS:
            return STRING_FORMATS[schema["format"]]
        return "x" * max(1, int(schema.get("minLength", 1)))
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        return low + 1 if "exclusiveMinimum" in schema else max(low, 1)
    return SAMPLES.get(kind)


def _request(path: str, method: str, op: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """The path with its parameters filled, and the query, headers, cookies and body the operation requires."""
    query: dict[str, Any] = {}
    headers: dict[str, str] = {}
    cookies: dict[str, str] = {}
    for param in op.get("parameters", []):
        value = sample(param.get("schema", {}), defs)
        where = param.get("in")
        if where == "path":
            path = path.replace("{" + param["name"] + "}", str(value))
            path = path.replace("{" + param["name"] + ":path}", str(value))
        elif param.get("required"):
            if where == "query":
                query[param["name"]] = value
            elif where == "header":
                headers[param["name"]] = str(value)
            elif where == "cookie":
                cookies[param["name"]] = str(value)
    kwargs: dict[str, Any] = {"params": query, "headers": headers, "cookies": cookies}
    content = (op.get("requestBody") or {}).get("content", {})
    if "application/json" in content:
        kwargs["json"] = sample(content["application/json"].get("schema", {}), defs)
    elif content:
        media, spec = next(iter(content.items()))
        fields = sample(spec.get("schema", {}), defs) or {}
        if media.startswith("multipart/"):
            kwargs["files"] = {k: ("a.txt", b"x") for k in fields} or {"file": ("a.txt", b"x")}
        else:
            kwargs["data"] = {k: str(v) for k, v in fields.items()}
    return {"path": path, **kwargs}


def _find_app(module: Any) -> tuple[str, Any]:
    from fastapi import APIRouter, FastAPI

    apps = [(n, v) for n, v in vars(module).items() if isinstance(v, FastAPI)]
    if apps:
        named = [a for a in apps if a[0] == "app"]
        return (named or apps)[-1]
    routers = [(n, v) for n, v in vars(module).items() if isinstance(v, APIRouter)]
    if routers:
        name, router = routers[-1]
        app = FastAPI()
        app.include_router(router)
        return name, app
    return "", None


def check(code: str, max_routes: int, placeholders: frozenset[str] = frozenset()) -> dict[str, Any]:
    import fastapi

    report: dict[str, Any] = {
        "stage": "import", "ok": False, "app": "", "routes": [], "error": "", "fastapi": fastapi.__version__,
    }  # fmt: skip
    with open("answer_code.py", "w", encoding="utf-8") as f:
        f.write(code)
    try:
        spec = importlib.util.spec_from_file_location("answer_code", "answer_code.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["answer_code"] = module
        spec.loader.exec_module(module)
    except BaseException as err:
        report["error"] = _last_line(err, module)
        report["cause"] = _cause(err, module)
        return report
    report["stage"] = "app"
    name, app = _find_app(module)
    if app is None:
        report["error"] = "the code defines no FastAPI app or APIRouter"
        return report
    report["app"] = name
    report["stage"] = "openapi"
    try:
        schema = app.openapi()
    except Exception as err:
        report["error"] = _last_line(err)
        return report
    report["stage"] = "routes"
    from fastapi.testclient import TestClient

    defs = schema.get("components", {}).get("schemas", {})
    calls = [
        (path, method.upper(), op)
        for path, item in schema.get("paths", {}).items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    endpoints = {
        (route.path, m): getattr(route.endpoint, "__name__", "")
        for route in app.routes
        if hasattr(route, "methods") and hasattr(route, "endpoint")
        for m in (route.methods or ())
    }
    try:
        with TestClient(app) as client:
            for path, method, op in calls[:max_routes]:
                if endpoints.get((path, method)) in placeholders:  # `def f(): ...`: the answer left it out
                    report["routes"].append(
                        {"method": method, "path": path, "status": 0, "error": "", "cause": "placeholder"}
                    )
                    continue
                req = _request(path, method, op, defs)
                try:
                    resp = client.request(method, req.pop("path"), **req)
                    status, error = resp.status_code, ""
                    cause = ""
                except Exception as err:
                    sampled = bool(op.get("parameters") or op.get("requestBody"))
                    status, error, cause = 500, _last_line(err), _route_cause(err, sampled)
                route = {"method": method, "path": path, "status": status, "error": error}
                if cause:
                    route["cause"] = cause
                report["routes"].append(route)
    except BaseException as err:
        report["error"] = "app start-up (lifespan) failed: " + _last_line(err)
        return report
    failed = [r for r in report["routes"] if r["status"] >= 500 and not r.get("cause")]
    report["ok"] = not failed
    if failed:
        report["error"] = f"{failed[0]['method']} {failed[0]['path']} answered {failed[0]['status']}" + (
            f": {failed[0]['error']}" if failed[0]["error"] else ""
        )
    report["skipped_routes"] = max(0, len(calls) - max_routes)
    return report


OWN_PACKAGES = ("fastapi", "starlette", "pydantic", "pydantic_settings")
NETWORK_ERRNOS = {99, 101, 111, 113, -2, -3, -5}  # unreachable, refused, name resolution


def _missing_file(err: BaseException) -> bool:
    """A file or folder the reader has and the sandbox does not (``static/``, ``dist/``, a video file)."""
    return isinstance(err, FileNotFoundError) or (isinstance(err, RuntimeError) and "does not exist" in str(err))


def _route_cause(err: BaseException, sampled: bool) -> str:
    """Why a route failed, when the request is to blame and not the code: a lookup of the made-up sample input
    (``items[item_id]`` with ``item_id="x"``: a ``KeyError`` raised in the answer's own code, on a route that took
    sample parameters), or a file it serves."""
    if _missing_file(err):
        return "files"
    frames = traceback.extract_tb(err.__traceback__)
    if sampled and isinstance(err, LookupError) and frames and frames[-1].filename.endswith("answer_code.py"):
        return "input"
    return ""


def _cause(err: BaseException, module: Any) -> str:
    """Why importing failed, when it is not the code's own fault: a package not installed here (or the
    reader's own module or package), settings it reads from the environment, files it expects, or the
    network it may not use."""
    if isinstance(err, ModuleNotFoundError) and err.name:
        top = err.name.split(".")[0]
        return "" if top in OWN_PACKAGES else f"module:{err.name}"
    if isinstance(err, ImportError):
        if "relative import" in str(err):
            return "package"
        installed = re.search(r"([\w.-]+) is not installed", str(err))  # pydantic: "email-validator is not installed"
        if installed:
            return f"module:{installed.group(1)}"
    if _missing_file(err):
        return "files"
    chain: list[BaseException] = []
    e: BaseException | None = err
    while e is not None and len(chain) < 8:
        chain.append(e)
        e = e.__cause__ or e.__context__
    for e in chain:
        name = type(e).__name__
        if name in ("ConnectionError", "ConnectError", "gaierror", "ConnectTimeout", "NewConnectionError"):
            return "network"
        if isinstance(e, OSError) and e.errno in NETWORK_ERRNOS:
            return "network"
    if type(err).__name__ == "ValidationError":
        try:
            from pydantic_settings import BaseSettings
        except ImportError:
            return ""
        if any(
            isinstance(v, type) and issubclass(v, BaseSettings) and v is not BaseSettings for v in vars(module).values()
        ):
            return "config"
    return ""


def _last_line(err: BaseException, module: Any = None) -> str:
    """``AttributeError: 'function' object has no attribute 'decode' (at `return request.body.decode()`)``: the
    error and the answer's own line that raised it (its text: line numbers of the assembled module would not
    match the answer's blocks)."""
    where = ""
    for frame in reversed(traceback.extract_tb(err.__traceback__)):
        if frame.filename.endswith("answer_code.py") and frame.line:
            where = f" (at `{frame.line.strip()[:120]}`)"
            break
    if isinstance(err, SyntaxError) and err.text:
        where = f" (at `{err.text.strip()[:120]}`)"
    text = str(err).splitlines()[0] if str(err) else ""
    text = re.sub(r" \((/[^)]*|unknown location)\)", "", text)  # where the package lives here: noise
    return f"{type(err).__name__}: {text}"[:300] + _suggestion(err, module) + where


def _suggestion(err: BaseException, module: Any = None) -> str:
    """What the name was probably meant to be, as newer Pythons say it (``. Did you mean: 'GZipMiddleware'?``),
    or the keyword arguments a call takes: the error says what to change, to a reader and to the repair
    (repair.py). Python 3.11 prints suggestions for attributes and names only in an interpreter's own
    tracebacks, and none for ``from m import Name`` or keyword arguments."""
    try:
        if isinstance(err, AttributeError) and err.name and getattr(err, "obj", None) is not None:
            return _closest(err.name, dir(err.obj))
        if isinstance(err, NameError) and err.name:
            frames = traceback.extract_tb(err.__traceback__)
            known = list(vars(module)) if module is not None and frames else []
            return _closest(err.name, known + dir(builtins))
        if isinstance(err, ImportError) and not isinstance(err, ModuleNotFoundError) and err.name:
            m = re.match(r"cannot import name '(\w+)'", str(err))
            found = sys.modules.get(err.name)
            if m and found is not None:
                return _closest(m.group(1), dir(found))
        if isinstance(err, TypeError):
            m = re.match(r"([\w.]+)\(\) got an unexpected keyword argument '(\w+)'", str(err))
            if m:
                return _keywords(m.group(1), m.group(2), module)
    except Exception:  # a hint must never cost the report
        return ""
    return ""


def _closest(name: str, names: list[str]) -> str:
    public = [n for n in names if not n.startswith("_") and n != name]
    close = difflib.get_close_matches(name, public, n=1, cutoff=0.75)
    return f". Did you mean: '{close[0]}'?" if close else ""


def _keywords(qualname: str, given: str, module: Any) -> str:
    """``FastAPI.get`` given ``filenme``: a close keyword, else the keywords it takes."""
    import inspect

    import fastapi

    head, *rest = qualname.split(".")
    obj = (vars(module).get(head) if module is not None else None) or getattr(fastapi, head, None)
    for part in rest:
        obj = getattr(obj, part, None)
    if obj is None:
        return ""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    params = [n for n, p in inspect.signature(obj).parameters.items() if p.kind in kinds and n not in ("self", "cls")]
    if close := _closest(given, params):
        return close
    return f" (it takes: {', '.join(params[:16])}{', ...' if len(params) > 16 else ''})" if params else ""


def main() -> None:
    job = json.loads(sys.stdin.read())
    nonce = str(job.get("nonce", ""))  # the caller's: a line the answer's code prints cannot pass for the report
    report = check(job.pop("code"), int(job.get("max_routes", 12)), frozenset(job.get("placeholders", ())))
    sys.stdout.flush()
    sys.stdout.write(MARKER + nonce + json.dumps(report) + "\n")
    sys.stdout.flush()
    os._exit(0)  # no atexit handler of the answer's code runs after the report


if __name__ == "__main__":
    main()
