"""fda/lm/grammar.py: the output grammar for embedded models, and reading back what it lets through."""

from __future__ import annotations

import json

import pytest

from fda.lm.adapter import SchemaJSONAdapter
from fda.lm.grammar import object_grammar, split_fields, unfence
from signatures.agent import _Next
from signatures.answer import CitedAnswer
from signatures.code_repair import RepairCode
from signatures.rewrite import RewriteQuery

SCHEMA = SchemaJSONAdapter().schema(CitedAnswer)


def test_the_answer_grammar_keeps_the_fields_in_order_with_a_lazy_text_field() -> None:
    g = object_grammar(SCHEMA)
    assert g is not None and g.startswith("%llguidance {}")
    start = next(line for line in g.splitlines() if line.startswith("start:"))
    # cited (at most 4 integers), then the answer text, which runs to the first place "cannot_answer" can follow
    assert start.index('"\\"cited\\""') < start.index('"\\"answer\\""') < start.index("text_1") < start.index("BOOLEAN")
    assert 'text_1[lazy]: /"(?s:.*)"[ \\t\\n\\r]*,[ \\t\\n\\r]*"cannot_answer"[ \\t\\n\\r]*:/' in g
    assert start.startswith('start: ("```json" | "```")? "{"') and start.endswith('"```"?')


def test_enums_are_literals_and_string_lists_are_strict() -> None:
    g = object_grammar(SchemaJSONAdapter().schema(RewriteQuery))
    assert g is not None
    assert '("\\"answer\\"" | "\\"off_topic\\"" | "\\"refuse\\"")' in g
    assert '"[" (STRING ("," STRING){0,3})? "]"' in g  # list items cannot hold a bare quote


def test_a_text_field_last_runs_to_the_closing_brace() -> None:
    g = object_grammar(SchemaJSONAdapter().schema(RepairCode))
    assert g is not None and 'text_0[lazy]: /"(?s:.*)"[ \\t\\n\\r]*}/' in g
    nxt = object_grammar(SchemaJSONAdapter().schema(_Next))
    assert nxt is not None and "text_3" in nxt  # argument, version, to_version: three text fields in a row


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"type": "object"}}, "required": ["a"]},  # nested object
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": []},  # optional field
        {"type": "array", "items": {"type": "string"}},
        {"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}, {"type": "null"}]}}, "required": ["a"]},
    ],
)
def test_schemas_it_does_not_cover_return_none(schema: dict) -> None:
    assert object_grammar(schema) is None


def test_split_fields_reads_bare_quotes_raw_newlines_and_escapes() -> None:
    completion = '{"cited": [1], "answer": "Set allow_origins=["*"] [1].\nThen \\"restart\\".", "cannot_answer": true}'
    assert split_fields(completion, SCHEMA) == {
        "cited": [1],
        "answer": 'Set allow_origins=["*"] [1].\nThen "restart".',
        "cannot_answer": True,
    }


def test_split_fields_finds_keys_from_the_end() -> None:
    # the answer quotes the next key: the real key is the last one
    answer = 'The field is "cannot_answer": it is a bool.'
    completion = '{"cited": [], "answer": "' + answer + '", "cannot_answer": false}'
    assert split_fields(completion, SCHEMA) == {"cited": [], "answer": answer, "cannot_answer": False}


@pytest.mark.parametrize(
    "completion",
    [
        '{"cited": [1], "answer": "cut at max_tok',  # no end: salvage's job, not this
        '{"cited": [1] "answer": "x", "cannot_answer": false}',  # no comma after the list
        '{"answer": "x", "cannot_answer": false}',  # a key missing
        "not json at all",
    ],
)
def test_split_fields_returns_none_for_other_shapes(completion: str) -> None:
    assert split_fields(completion, SCHEMA) is None


def test_strict_json_reads_the_same_both_ways() -> None:
    value = {"cited": [2, 1], "answer": 'Use "*" [2].\n```python\nx = 1\n```', "cannot_answer": False}
    text = json.dumps(value, indent=2)
    assert split_fields(text, SCHEMA) == value == json.loads(unfence("```json\n" + text + "\n```"))
