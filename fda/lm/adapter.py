"""``SchemaJSONAdapter``: DSPy's JSONAdapter, with the output schema enforced by the server's grammar.

    with dspy.context(lm=lm, adapter=adapter_for(lm)):
        pred = dspy.Predict(CitedAnswer)(question=..., sources=...)

Why: small local models (Qwen2.5-Coder 0.5B/1.5B) given DSPy's ChatAdapter prompt often echo the empty
``[[ ## field ## ]]`` template or drop a field; each failure costs a retry and the ChatAdapter's JSON
fallback, so one answer took 5 LM calls and 37 s, then still failed to parse (measured, docs/lm.md).
llama.cpp's server turns a ``json_schema`` response format into a grammar, so every field is present
and typed on the first call. DSPy only sends a schema when LiteLLM's catalog says the model supports
one, which it cannot know for a local model name: this adapter always sends it.

``adapter_for(lm)`` picks it for the embedded models; any other model keeps DSPy's default adapter.
Parsing is JSONAdapter's (json_repair: code fences, raw newlines inside strings).
"""

from __future__ import annotations

from typing import Any

import dspy
from dspy.adapters.json_adapter import JSONAdapter, _get_structured_outputs_response_format

from fda.lm.registry import known_models


class SchemaJSONAdapter(JSONAdapter):
    """JSON output constrained by the signature's JSON schema (``response_format=json_schema``).

    Every list gets ``maxItems`` (``max_items``, default 4): a small model otherwise loops "1, 2, 3, ... 32"
    in a list of citations until ``max_tokens`` (measured with the 0.5B), and the cut output cannot parse.
    """

    def __init__(self, max_items: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_items = max_items

    def _prepare_response_format(self, lm: Any, lm_kwargs: dict[str, Any], signature: Any) -> None:
        if "response_format" in lm_kwargs:
            return
        lm_kwargs["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "outputs", "schema": self.schema(signature), "strict": True},
        }

    def schema(self, signature: Any) -> dict[str, Any]:
        """The signature's output fields as a JSON schema, lists capped at ``max_items``."""
        model = _get_structured_outputs_response_format(signature, self.use_native_function_calling)
        schema: dict[str, Any] = model.model_json_schema()
        _cap_lists(schema, self.max_items)
        return schema


def _cap_lists(node: Any, max_items: int) -> None:
    if isinstance(node, dict):
        if node.get("type") == "array":
            node.setdefault("maxItems", max_items)
        for value in node.values():
            _cap_lists(value, max_items)
    elif isinstance(node, list):
        for value in node:
            _cap_lists(value, max_items)


def is_embedded(lm: Any) -> bool:
    """True for an LM made by ``make_lm`` for a ``local:`` model (served by the embedded llama.cpp)."""
    model = str(getattr(lm, "model", ""))
    return model.startswith("openai/") and model.removeprefix("openai/") in known_models()


def adapter_for(lm: Any) -> dspy.Adapter | None:
    """The adapter an LM is best used with: schema-constrained JSON for embedded models, else DSPy's default."""
    return SchemaJSONAdapter() if lm is not None and is_embedded(lm) else None


def scoped_adapter(lm: Any | None) -> dspy.Adapter | None:
    """The adapter to set for ``lm`` (else the active LM), or ``None`` to leave things as they are: when it
    wants DSPy's default, or when the caller already configured one (``dspy.context(adapter=...)``)."""
    if dspy.settings.adapter is not None:
        return None
    return adapter_for(lm if lm is not None else dspy.settings.lm)


def lm_scope(lm: Any | None) -> Any:
    """``dspy.context`` for a program stage: ``lm`` (when given, else the active one) with its adapter."""
    overrides: dict[str, Any] = {}
    if lm is not None:
        overrides["lm"] = lm
    adapter = scoped_adapter(lm)
    if adapter is not None:
        overrides["adapter"] = adapter
    return dspy.context(**overrides)
