"""Model version numbers as people type them: plain ASCII digits, no sign, no leading zero.

Python's ``int`` and ``str.isdigit`` also take ``+1``, ``01``, `` 1`` and other scripts' digits
(``١``): each would name version 1 while the audit log recorded the text typed. One parser, in the
registry service and the CLI, refuses them by name."""

from __future__ import annotations

import re

from shipyard.errors import BadInput

PLAIN = re.compile(r"[1-9][0-9]{0,8}")  # ASCII only: [0-9] is not \d, which matches every script


class NotAVersion(BadInput):
    def __init__(self, text: str) -> None:
        super().__init__(
            f"version {text!r} is not a version number (ASCII digits 1-9 then 0-9, no sign, no leading zero)",
            "pass the number `shipyard model list` shows, e.g. 3",
        )
        self.text = text


def parse_version(text: str) -> int:
    if not isinstance(text, str) or not PLAIN.fullmatch(text):
        raise NotAVersion(str(text))
    return int(text)
