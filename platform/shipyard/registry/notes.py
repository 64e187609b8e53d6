"""The note a person gives with a registry action: free text, bounded and never cut, and required where
the action is a judgement someone must be able to read later (reject, retire, comment).

The CLI checks a note before it calls the registry (:func:`check_note`); the registry service checks the
request body again (:func:`request_note`): it trusts no client.
"""

from __future__ import annotations

from shipyard.errors import BadInput, RequestRefused

MAX_NOTE = 2000  # characters: the audit log's details stay small
NEEDS_REASON = ("reject", "retire", "comment")  # the actions' URL names


def problem(note: object, action: str) -> str | None:
    """What is wrong with ``note`` for ``action``, or None."""
    if not isinstance(note, str):
        return "the note must be text"
    if len(note) > MAX_NOTE:
        return f"the note is {len(note):,} characters long: at most {MAX_NOTE:,} (it is never cut)"
    if any(ord(c) < 32 and c not in "\n\t" for c in note):
        return "the note contains control characters"
    if action in NEEDS_REASON and not note.strip():
        return f"a {action} needs a reason: the note is empty"
    return None


def check_note(note: str, action: str) -> str:
    found = problem(note, action)
    if found:
        raise BadInput(found, f"say why in --note, in at most {MAX_NOTE:,} characters")
    return note


def request_note(body: dict, action: str) -> str:
    """The note of a request body, or the registry's 400 naming what is wrong."""
    note = body.get("note", "")
    found = problem(note, action)
    if found:
        raise RequestRefused(f"{found}; say why in at most {MAX_NOTE} characters", 400)
    return note
