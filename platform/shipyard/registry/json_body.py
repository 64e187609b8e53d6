"""Parsing a request body's JSON with its nesting bounded.

Python's ``json`` recurses once per nesting level: a body of 100,000 ``[`` raises RecursionError
(an HTTP 500, and a thread's stack spent). Nothing the registry reads nests deeper than a few levels,
so the depth is counted over the raw text first (brackets outside strings) and a deeper body refused."""

from __future__ import annotations

import json
import re

from shipyard.errors import TooDeep

MAX_DEPTH = 32
STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
BRACKET = re.compile(rb"[\[\]{}]")


def depth_of(text: bytes, limit: int = MAX_DEPTH) -> int:
    """The deepest nesting of ``[``/``{`` outside strings; raises :class:`TooDeep` past ``limit``.
    Strings are cut out by a regular expression and only brackets walked: a validation set's 32 MiB
    of CSV inside one string costs one C-speed pass."""
    depth = deepest = 0
    for match in BRACKET.finditer(STRING.sub(b"", text)):
        if match.group() in (b"[", b"{"):
            depth += 1
            if depth > limit:
                raise TooDeep(limit)
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def loads(body: bytes, limit: int = MAX_DEPTH):
    depth_of(body, limit)
    return json.loads(body or b"{}")
