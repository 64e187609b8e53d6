"""Changes to what runs in production need a reason, kept in the audit event (SR 11-7: why a model
was put into, taken back or out of use). The registry service refuses them without one."""

from __future__ import annotations

from shipyard.audit import names as audit

# promote (and a rollback, a promote of an earlier version) and retire; approve/reject/comment: a note
NEEDS_REASON = frozenset({audit.PROMOTE, audit.ROLLBACK, audit.RETIRE})
MAX_REASON = 2000


def missing_reason(action: str, model: str, version: str | int, reason: str) -> str | None:
    """The refusal when ``action`` needs a reason and ``reason`` is blank; None when it may go on."""
    if action in NEEDS_REASON and not reason.strip():
        return f"{action} of {model} v{version} needs a reason (--reason): it is kept in the audit event"
    return None
