"""The hook's JSON reader and writer agree with the json module."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tether import fastjson

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@given(values, st.booleans())
def test_round_trips_like_the_json_module(value: Any, sort_keys: bool) -> None:
    text = fastjson.dumps(value, sort_keys=sort_keys)
    assert text == json.dumps(value, sort_keys=sort_keys, ensure_ascii=False, separators=(",", ":"))
    assert fastjson.loads(text) == value
    assert fastjson.loads(json.dumps(value, indent=2).encode()) == value


@pytest.mark.parametrize("bad", ["", "{", "[1, 2", "{} {}", "nope", '{"a": }', "\ufeff{}"])
def test_anything_but_one_document_is_a_value_error(bad: str) -> None:
    with pytest.raises(ValueError):
        fastjson.loads(bad)
    with pytest.raises(ValueError):
        json.loads(bad)


def test_bytes_that_are_not_utf8_are_a_value_error() -> None:
    with pytest.raises(ValueError):
        fastjson.loads(b'{"a": "\xff"}')


def test_unserialisable_values_use_the_default() -> None:
    assert fastjson.dumps({"a": {1, 2}}, default=lambda o: sorted(o)) == '{"a":[1,2]}'
    with pytest.raises(TypeError):
        fastjson.dumps(object())
