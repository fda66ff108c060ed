"""Lenient JSON for small models' output: code fences, raw newlines inside strings, trailing junk.

    loads_lenient('```json\\n{"answer": "line one\\nline two"}\\n```')  # -> {"answer": "line one\\nline two"}

Measured quirk: llama.cpp grammars (llama-cpp-python's at least) let raw newlines into JSON strings,
which ``json.loads`` refuses; ``strict=False`` accepts them. Anything still broken goes through
``json_repair`` (a DSPy dependency) before giving up.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fda.errors import LMError

_FENCE = re.compile(r"^\s*```[a-zA-Z]*\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)


def loads_lenient(text: str) -> Any:
    """Parse ``text`` as JSON as forgivingly as is safe; raise ``LMError`` when nothing sensible comes out."""
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    try:
        return json.loads(body, strict=False)
    except ValueError:
        pass
    start = min((i for i in (body.find("{"), body.find("[")) if i >= 0), default=-1)
    if start >= 0:
        try:
            return json.JSONDecoder(strict=False).raw_decode(body[start:])[0]
        except ValueError:
            pass
    import json_repair

    repaired = json_repair.loads(body)
    if repaired in ("", None) or (not isinstance(repaired, dict | list)):
        raise LMError(f"the model's output is not JSON: {body[:120]!r}", hint="Retry, or use a larger model.")
    return repaired
