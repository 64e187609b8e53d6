"""The one error family: problems a user can act on, never bugs in Shipyard.

Every error carries ``message`` (what is wrong) and ``fix`` (what to do about it). The CLI renders
each as one ``error:`` line plus a ``fix:`` line and exits 2; the portal shows the same two lines.
Raise the most specific kind: callers catch :class:`ServiceUnavailable` to degrade one part of a page,
:class:`NotFound` to say "no such thing", and ``UserError`` for all of them.
"""

from __future__ import annotations


class UserError(Exception):
    """The base of the family (and the kind for problems that fit no narrower one)."""

    exit_code = 2

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message}\n  fix: {self.fix}" if self.fix else self.message


class BadInput(UserError):
    """A flag, file or answer the user gave is not acceptable."""


class ReasonRequired(BadInput):
    """A change to what runs in production (promote, rollback, retire) was asked for without a reason."""


class NotFound(UserError):
    """A named project, run, model or version does not exist."""


class Refused(UserError):
    """The platform understood the request and refuses it (a rule, a permission, a gate)."""


class ServiceUnavailable(UserError):
    """A platform service did not answer; ``service`` names it so a page can say which one."""

    def __init__(self, service: str, url: str | None, detail: str, fix: str = "") -> None:
        super().__init__(
            f"{service} at {url or '(not configured)'} is unavailable: {detail}",
            fix or f"start {service} (`shipyard up` on one machine) or check its URL in the platform spec",
        )
        self.service = service
        self.url = url
        self.detail = detail


class NotReproduced(UserError):
    """A registered version did not reproduce from its lineage; ``cause`` says which part failed
    (``commit``, ``data``, ``lock``, ``stage``, ``metrics``, ``model-file``), the message names it."""

    CAUSES = ("commit", "data", "lock", "stage", "metrics", "model-file")

    def __init__(self, cause: str, message: str, fix: str = "", **details: object) -> None:
        super().__init__(message, fix or "see the reproduction's log; the audit log keeps the verdict")
        self.cause = cause
        self.details = details
