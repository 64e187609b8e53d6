"""Model version numbers as people type them: plain ASCII digits, no sign, no leading zero.

Python's ``int`` and ``str.isdigit`` also take ``+1``, ``01``, `` 1`` and other scripts' digits
(``١``): each would name version 1 while the audit log recorded the text typed. One parser, in the
registry service and the CLI, refuses them by name."""

from __future__ import annotations

import re

from shipyard.errors import NotAVersion

PLAIN = re.compile(r"[1-9][0-9]{0,8}")  # ASCII only: [0-9] is not \d, which matches every script


def parse_version(text: str) -> int:
    if not isinstance(text, str) or not PLAIN.fullmatch(text):
        raise NotAVersion(str(text))
    return int(text)
