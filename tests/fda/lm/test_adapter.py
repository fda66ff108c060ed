"""fda/lm/adapter.py: the JSON schema sent to embedded models, and which LMs get the adapter."""

from __future__ import annotations

import dspy
from dspy.utils import DummyLM

from fda.lm.adapter import SchemaJSONAdapter, adapter_for, lm_scope
from signatures.answer import CitedAnswer
from signatures.rewrite import RewriteQuery


def test_schema_requires_every_field_and_caps_lists() -> None:
    schema = SchemaJSONAdapter(max_items=3).schema(CitedAnswer)
    assert schema["required"] == ["cited", "answer", "cannot_answer"]
    assert schema["properties"]["cited"]["maxItems"] == 3
    assert SchemaJSONAdapter().schema(RewriteQuery)["properties"]["decision"]["enum"] == [
        "answer",
        "off_topic",
        "refuse",
    ]


def test_the_schema_goes_to_the_lm_as_a_grammar_merged_into_extra_body() -> None:
    adapter = SchemaJSONAdapter()
    lm = DummyLM([{"cited": [1], "answer": "Use CORSMiddleware [1].", "cannot_answer": False}], adapter=adapter)
    lm.kwargs["extra_body"] = {"dry_multiplier": 0.8}  # the LM's own sampler setting must survive
    with dspy.context(lm=lm, adapter=adapter):
        out = dspy.Predict(CitedAnswer)(question="How do I enable CORS?", sources="[1] CORS\nUse CORSMiddleware.")
    assert out.cited == [1] and out.cannot_answer is False
    sent = lm.history[-1]["kwargs"]
    assert "response_format" not in sent
    assert sent["extra_body"]["dry_multiplier"] == 0.8
    assert sent["extra_body"]["grammar"].startswith("%llguidance")
    assert '(INTEGER ("," INTEGER){0,3})?' in sent["extra_body"]["grammar"]  # the list cap


def test_strict_mode_sends_the_schema_as_response_format() -> None:
    adapter = SchemaJSONAdapter(lenient_text=False)
    lm = DummyLM([{"cited": [1], "answer": "Use CORSMiddleware [1].", "cannot_answer": False}], adapter=adapter)
    with dspy.context(lm=lm, adapter=adapter):
        dspy.Predict(CitedAnswer)(question="How do I enable CORS?", sources="[1] CORS\nUse CORSMiddleware.")
    sent = lm.history[-1]["kwargs"]["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["schema"]["properties"]["cited"]["maxItems"] == 4
    assert "extra_body" not in lm.history[-1]["kwargs"]


def test_an_answer_with_a_bare_quote_and_raw_newlines_parses_whole() -> None:
    # what the lenient grammar lets through: strict JSON would end the answer at allow_methods=[
    completion = (
        '```json\n{\n  "cited": [1, 2],\n  "answer": "Add it [1]:\n```python\n'
        'app.add_middleware(CORSMiddleware, allow_methods=["*"])\n```",\n  "cannot_answer": false\n}\n```'
    )
    fields = SchemaJSONAdapter().parse(CitedAnswer, completion)
    assert fields["cited"] == [1, 2] and fields["cannot_answer"] is False
    assert fields["answer"] == 'Add it [1]:\n```python\napp.add_middleware(CORSMiddleware, allow_methods=["*"])\n```'


def test_valid_json_parses_as_before() -> None:
    completion = '{"cited": [3], "answer": "Use \\"*\\" [3].\\nDone.", "cannot_answer": false}'
    assert SchemaJSONAdapter().parse(CitedAnswer, completion)["answer"] == 'Use "*" [3].\nDone.'


def test_an_answer_left_open_keeps_its_whole_output_on_the_error() -> None:
    """JSONAdapter reads the first ``{...}`` it can when the whole will not parse (here one in the answer's code);
    the error must still carry the whole output, which the answer step's salvage reads (programs/answering.py)."""
    import pytest

    completion = (
        '{\n  "cited": [1],\n  "answer": "Raise it [1]:\n```python\nitems = {"foo": "The Foo Wrestlers"}\n```\n'
        "The `cited` field in the output is set to [1] because"
    )
    with pytest.raises(dspy.AdapterParseError) as caught:
        SchemaJSONAdapter().parse(CitedAnswer, completion)
    assert caught.value.lm_response == completion


def test_embedded_models_get_the_adapter_and_others_keep_dspys_default() -> None:
    local = dspy.LM("openai/qwen2.5-coder-0.5b", api_base="http://127.0.0.1:9/v1", api_key="local")
    assert isinstance(adapter_for(local), SchemaJSONAdapter)
    assert adapter_for(dspy.LM("openai/gpt-4o-mini")) is None
    assert adapter_for(None) is None
    local.fda_lenient_text = False  # lm.lenient_text=false, as make_lm marks it
    adapter = adapter_for(local)
    assert isinstance(adapter, SchemaJSONAdapter) and adapter.lenient_text is False


def test_lm_scope_keeps_an_adapter_the_caller_chose() -> None:
    local = dspy.LM("openai/qwen2.5-coder-0.5b", api_base="http://127.0.0.1:9/v1", api_key="local")
    chosen = dspy.ChatAdapter()
    with dspy.context(adapter=chosen), lm_scope(local):
        assert dspy.settings.adapter is chosen and dspy.settings.lm is local
    with lm_scope(local):
        assert isinstance(dspy.settings.adapter, SchemaJSONAdapter)
