"""The registry's request inputs as units (issue #32): version numbers are plain ASCII, a body's JSON
nesting is bounded before Python's recursive parser sees it. The service and CLI use the same
parsers (tests/registry/test_platform_owns_facts.py drives them over HTTP and the real CLI)."""

from __future__ import annotations

import json

import pytest
from shipyard.errors import BadInput
from shipyard.registry.json_body import MAX_DEPTH, TooDeep, depth_of, loads
from shipyard.registry.versions import NotAVersion, parse_version


@pytest.mark.parametrize("text, number", [("1", 1), ("7", 7), ("10", 10), ("123456789", 123456789)])
def test_plain_versions_parse(text, number):
    assert parse_version(text) == number


@pytest.mark.parametrize("text", ["01", "+1", "-1", "١", "１", "1.0", " 1", "1 ", "0", "", "1e3", "1_000",
                                  "1234567890"])  # fmt: skip
def test_anything_else_is_not_a_version_and_says_so(text):
    with pytest.raises(NotAVersion) as info:
        parse_version(text)
    assert isinstance(info.value, BadInput) and repr(text) in info.value.message and info.value.fix


def test_nesting_is_counted_outside_strings_only():
    body = json.dumps({"csv": "[" * 10_000 + "{" * 10_000, "note": 'a "quoted" [x]'}).encode()
    assert depth_of(body) == 1 and loads(body)["note"] == 'a "quoted" [x]'
    assert depth_of(json.dumps([[[{"a": [1]}]]]).encode()) == 5


def test_a_body_deeper_than_the_bound_is_refused_before_parsing():
    at_bound = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert loads(at_bound) is not None
    for deep in (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), b"[" * 100_000 + b"]" * 100_000):
        with pytest.raises(TooDeep, match=f"deeper than {MAX_DEPTH} levels"):
            loads(deep)
    assert loads(b"") == {}
