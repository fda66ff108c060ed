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
The schema goes to the server as an llguidance (Lark) grammar (``fda.lm.grammar``) whose free-text fields take raw newlines and
bare double quotes, which a JSON grammar masks and the small models then mangle code around (one-line code, answers
cut at ``["*"]``); a schema that grammar does not cover goes as the ``json_schema`` response format. Parsing is
JSONAdapter's (json_repair: code fences, raw newlines inside strings), after ``grammar.split_fields`` for output
that is not valid JSON because of a bare quote.
"""

from __future__ import annotations

import json
from typing import Any

import dspy
from dspy.adapters.json_adapter import JSONAdapter, _get_structured_outputs_response_format

from fda.lm.grammar import object_grammar, split_fields, unfence
from fda.lm.registry import known_models


class SchemaJSONAdapter(JSONAdapter):
    """JSON output constrained by the signature's JSON schema (``response_format=json_schema``).

    Every list gets ``maxItems`` (``max_items``, default 4): a small model otherwise loops "1, 2, 3, ... 32"
    in a list of citations until ``max_tokens`` (measured with the 0.5B), and the cut output cannot parse.
    """

    def __init__(self, max_items: int = 4, lenient_text: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_items = max_items
        self.lenient_text = lenient_text  # free-text fields take raw newlines and bare quotes (fda.lm.grammar)

    def _prepare_response_format(self, lm: Any, lm_kwargs: dict[str, Any], signature: Any) -> None:
        if "response_format" in lm_kwargs or "grammar" in (lm_kwargs.get("extra_body") or {}):
            return
        schema = self.schema(signature)
        grammar = object_grammar(schema) if self.lenient_text else None
        if grammar is not None:
            # the LM's own extra_body (llama.cpp sampler settings) is merged, not replaced: the call's kwargs
            # override the LM's key by key, and extra_body is one key
            lm_kwargs["extra_body"] = {
                **(getattr(lm, "kwargs", {}).get("extra_body") or {}),
                **(lm_kwargs.get("extra_body") or {}),
                "grammar": grammar,
            }
            return
        lm_kwargs["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "outputs", "schema": schema, "strict": True},
        }

    def parse(self, signature: Any, completion: str) -> dict[str, Any]:
        """JSONAdapter's parse; output that is not valid JSON only because a free-text field holds a bare quote
        (which the grammar allows) is split by its keys first, so json_repair does not guess where it ends."""
        if self.lenient_text:
            try:
                json.loads(unfence(completion), strict=False)
            except ValueError:
                fields = split_fields(completion, self.schema(signature))
                if fields is not None:
                    return super().parse(signature, json.dumps(fields))
        try:
            return super().parse(signature, completion)
        except dspy.AdapterParseError as err:
            # JSONAdapter swaps in the first ``{...}`` it can read when the whole will not parse, which can be an
            # object inside the answer's code: the error keeps the whole output, so a cut answer can be salvaged
            err.lm_response = completion
            raise

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
    if lm is None or not is_embedded(lm):
        return None
    return SchemaJSONAdapter(lenient_text=bool(getattr(lm, "fda_lenient_text", True)))


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
