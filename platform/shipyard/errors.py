"""Errors a user can act on. The CLI prints them as one line plus the fix and exits 2."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input or environment, never a bug in Shipyard.

    ``message`` says what is wrong, ``fix`` what to do about it.
    """

    exit_code = 2

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.fix}" if self.fix else self.message
