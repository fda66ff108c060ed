"""The output grammar for embedded models: a signature's JSON object, in which free-text fields may hold raw
newlines and bare double quotes.

    grammar = object_grammar(schema)           # llguidance (Lark) text; None: not covered (keep json_schema)
    fields = split_fields(completion, schema)  # the output back as a dict, bare quotes and all; None: not this shape

Why: the JSON grammar llama.cpp builds from a ``json_schema`` response format forbids two things the small models
write inside an answer's code, and what it forces instead breaks the answer (session 28, the served 1.5B on "How do
I add CORS so my React app on localhost:3000 can call my API with cookies?"):

- a raw newline after ```` ```python ````: masked, the next best token was a space, and the whole code example came
  out on one line (```` ```python ```python from fastapi import FastAPI from ... ````), which the verifier then read
  as prose;
- a double quote inside code (``allow_methods=["*"]``): read as the end of the answer string, after which the
  grammar forced ``, "cannot_answer": false}``, so the answer stopped at ``allow_methods=[``.

A free-text field here is one lazy lexeme: its opening quote, anything, then the closing quote with the comma and
the next key (or the closing brace); it ends at the first place the object can go on. Other values are as strict
as JSON; list items are strict JSON strings (a bare quote there would be ambiguous with the comma). The optional
```` ```json ```` fence around the object is allowed because the server's JSON grammar allows it and the models
take it about half the time. With greedy decoding a grammar changes the output only where the model's first choice
was masked, so an answer the JSON grammar let through comes out token for token the same (checked on the CORS
question: 216 identical tokens either way). Covered: flat objects of strings, integers, numbers, booleans, enums
and lists of those, which is what every signature in signatures/ outputs; anything else returns None.
"""

from __future__ import annotations

import json
import re
from typing import Any

_WS = r"[ \t\n\r]*"
_HEADER = "%llguidance {}\n%ignore /[ \\t\\n\\r]+/"
_TERMINALS = [
    # a list item: a strict JSON string (a bare quote there would be ambiguous with the "," between items)
    r'STRING: /"(\\(["\\\/bfnrt]|u[a-fA-F0-9]{4})|[^"\\\x00-\x1F\x7F])*"/',
    "INTEGER: /-?[0-9]{1,12}/",
    r"NUMBER: /-?[0-9]{1,12}(\.[0-9]{1,12})?/",
    'BOOLEAN: "true" | "false"',
]
_SCALAR = {"integer": "INTEGER", "number": "NUMBER", "boolean": "BOOLEAN"}


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return dict(defs.get(ref.removeprefix("#/$defs/"), {}))
    return node


def _literal(value: Any) -> str:
    """A grammar string literal for the JSON text of ``value``."""
    return json.dumps(json.dumps(value))


def _is_text(node: dict[str, Any]) -> bool:
    return node.get("type") == "string" and "enum" not in node and "const" not in node


def _value(node: dict[str, Any]) -> str | None:
    """The grammar expression for one value that is not free text, None when it is not covered."""
    if "enum" in node:
        values = node["enum"]
        if not values or not all(isinstance(v, str | int | bool) for v in values):
            return None
        return "(" + " | ".join(_literal(v) for v in values) + ")"
    if "const" in node:
        return _literal(node["const"])
    kind = node.get("type")
    if kind in _SCALAR:
        return _SCALAR[kind]
    if kind == "array":
        items = node.get("items") or {}
        if items.get("type") == "array":  # lists of lists: not covered
            return None
        inner = "STRING" if _is_text(items) else _value(items)
        if inner is None:
            return None
        most = node.get("maxItems")
        if most == 0:
            return '"[" "]"'
        more = f"{{0,{int(most) - 1}}}" if isinstance(most, int) and most >= 1 else "*"
        return f'"[" ({inner} ("," {inner}){more})? "]"'
    return None


def object_grammar(schema: dict[str, Any]) -> str | None:
    """An llguidance (Lark) grammar for ``schema`` (a flat JSON object, every property required, in its order),
    else None. A free-text field is one lazy lexeme from its opening quote through the closing quote, the comma and
    the next key (or the closing brace): it ends at the first place the object can go on, and holds anything
    before that."""
    props = schema.get("properties")
    if schema.get("type") != "object" or not isinstance(props, dict) or not props:
        return None
    if set(schema.get("required") or []) != set(props):
        return None
    defs = schema.get("$defs") or {}
    names = list(props)
    # the models open with a ```json fence about as often as with "{" (the 1.5B: log-probabilities -0.71 and -0.72
    # on a CORS question), and llama.cpp's own JSON-schema grammar lets them: so does this one
    items: list[str] = ['("```json" | "```")?', '"{"']
    rules: list[str] = []
    after_text = False  # the previous free-text lexeme already ate this key, its colon and the spaces around
    for i, name in enumerate(names):
        node = _resolve(props[name], defs)
        if not after_text:
            items += [_literal(name), '":"']
        if _is_text(node):
            # the quote that closes it, then what must come next: the next key and its colon, or the closing brace
            nxt = f",{_WS}{re.escape(json.dumps(names[i + 1]))}{_WS}:" if i + 1 < len(names) else "}"
            follow = f'"{_WS}{nxt}'
            rule = f"text_{i}"
            rules.append(f'{rule}[lazy]: /"(?s:.*){follow}/')
            items.append(rule)
            after_text = True
            continue
        value = _value(node)
        if value is None:
            return None
        items.append(value)
        after_text = False
        if i + 1 < len(names):
            items.append('","')
    if not after_text:
        items.append('"}"')
    items.append('"```"?')
    return "\n".join([_HEADER, "start: " + " ".join(items), *rules, *_TERMINALS])


def _text_value(raw: str) -> str | None:
    """A free-text field's value as written (``"..."`` with bare quotes or raw newlines inside) decoded."""
    raw = raw.strip()
    if len(raw) < 2 or not raw.startswith('"') or not raw.endswith('"'):
        return None
    inner = raw[1:-1]
    escaped = re.sub(r'(?<!\\)((?:\\\\)*)"', r'\1\\"', inner)  # a bare quote, not one escaped already
    try:
        value = json.loads(f'"{escaped}"', strict=False)
    except ValueError:
        return None
    return value if isinstance(value, str) else None


_FENCED = re.compile(r"^```(?:json)?\s*(.*?)\s*(?:```)?$", re.DOTALL)


def unfence(completion: str) -> str:
    """``completion`` without the ```json fence around it, if it has one."""
    text = completion.strip()
    m = _FENCED.match(text) if text.startswith("```") else None
    return m.group(1) if m else text


def split_fields(completion: str, schema: dict[str, Any]) -> dict[str, Any] | None:
    """``completion`` (the output of ``object_grammar(schema)``) as a dict, None when it is not that shape (cut at
    ``max_tokens``, say). Keys are found from the last one back, so a text that quotes a later key (``"cannot_answer":``
    inside an answer) does not end the field early."""
    props = schema.get("properties") or {}
    names = list(props)
    text = unfence(completion)
    if not names or not text.startswith("{") or not text.endswith("}"):
        return None
    end = len(text) - 1  # the closing brace
    found: list[tuple[int, int]] = []  # (where the key starts, where its value starts), last key first
    for name in reversed(names):
        matches = list(re.finditer(r'"' + re.escape(name) + r'"\s*:\s*', text[:end]))
        if not matches:
            return None
        m = matches[-1]
        found.append((m.start(), m.end()))
        end = m.start()
    found.reverse()
    defs = schema.get("$defs") or {}
    out: dict[str, Any] = {}
    for i, name in enumerate(names):
        stop = found[i + 1][0] if i + 1 < len(names) else len(text) - 1
        raw = text[found[i][1] : stop].rstrip()
        if i + 1 < len(names):
            if not raw.endswith(","):
                return None
            raw = raw[:-1]
        if _is_text(_resolve(props[name], defs)):  # as object_grammar wrote it: one lazy text lexeme
            value = _text_value(raw)
            if value is None:
                return None
            out[name] = value
            continue
        try:
            out[name] = json.loads(raw, strict=False)
        except ValueError:
            return None
    return out
