"""The one error family: problems a user can act on, never bugs in Shipyard.

Every error carries ``message`` (what is wrong) and ``fix`` (what to do about it). The CLI renders
each as one ``error:`` line plus a ``fix:`` line and exits 2; the portal shows the same two lines.
Raise the most specific kind: callers catch :class:`ServiceUnavailable` to degrade one part of a page,
:class:`NotFound` to say "no such thing", and ``UserError`` for all of them. An HTTP status becomes a
type where the answer arrives (401 :class:`NotSignedIn`, 403 :class:`Forbidden`), never by reading a
message. Every exception class of the package lives here (tests/architecture/test_clients_boundary.py),
the internal ones too: those at the end are raised and caught inside Shipyard and turned into one of
the family (or a refusal of the registry service) where they are caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# the fix line of every refusal for want of a sign-in (MLflow's 401, a project's `make predict`)
SIGN_IN_FIX = "sign in: shipyard login --user YOU@example.com, then run the command again"


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


class ServiceUnreachable(ServiceUnavailable):
    """A platform service refused the connection or did not answer within the bounds (its own words:
    ``<service> is unreachable at <url>``)."""

    def __init__(self, service: str, url: str, detail: str = "") -> None:
        why = f" ({detail})" if detail else ""
        UserError.__init__(
            self,
            f"{service} is unreachable at {url}{why}",
            "shipyard up (the embedded platform), or check the service's URL",
        )
        self.service, self.url, self.detail = service, url, detail


class AlreadyExists(BadInput):
    """A service already holds the record a request would create (MLflow's RESOURCE_ALREADY_EXISTS)."""


class NotSignedIn(Refused):
    """A service answered HTTP 401: the request carried no credentials, or ones it does not accept."""


class Forbidden(Refused):
    """A service answered HTTP 403: the signed-in account may not do this."""


class RequestRefused(Refused):
    """The registry service refuses a request; ``status`` is the HTTP status it answers with
    (401 sign in, 403 not allowed, 404, 409 conflict, 422 the run or data do not hold, ...)."""

    def __init__(self, reason: str, status: int = 403) -> None:
        super().__init__(reason)
        self.reason, self.status = reason, status


class RegistryRefused(Refused):
    """The registry service answered a CLI/portal call with a refusal (``status``, its JSON ``body``)."""

    def __init__(self, reason: str, status: int, body: dict, fix: str) -> None:
        super().__init__(f"the registry refused: {reason}", fix)
        self.reason, self.status, self.body = reason, status, body


class NotAVersion(BadInput):
    def __init__(self, text: str) -> None:
        super().__init__(
            f"version {text!r} is not a version number (ASCII digits 1-9 then 0-9, no sign, no leading zero)",
            "pass the number `shipyard model list` shows, e.g. 3",
        )
        self.text = text


class InputError(UserError):
    """A file the user gave cannot be used; ``file`` names it."""

    def __init__(self, file: str, problem: str, fix: str, line: int | None = None) -> None:
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {problem}", fix)
        self.file, self.problem, self.line = file, problem, line


@dataclass(frozen=True)
class SpecProblem:
    path: str
    line: int | None
    message: str


class SpecError(UserError):
    """One or more problems in a spec file; each names the field path and the YAML line."""

    def __init__(self, file: str, problems: list[SpecProblem], fix: str = "") -> None:
        self.file = file
        self.problems = problems
        first = problems[0]
        where = f"{file}:{first.line}" if first.line else file
        field = f" {first.path}:" if first.path else ""
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        super().__init__(f"{where}:{field} {first.message}{more}", fix or "correct the field and run again")

    def report(self) -> str:
        lines = []
        for p in self.problems:
            where = f"{self.file}:{p.line}" if p.line else self.file
            lines.append(f"{where}: {p.path or '(top level)'}: {p.message}")
        return "\n".join(lines)


class ModelFilesError(UserError):
    """The model's files cannot be fetched or kept; the message says why in one line."""


# --- raised and caught inside Shipyard: each becomes one of the family (or a refusal) where it is caught;
# the ValueError/RuntimeError bases are kept for the code (pydantic, json) that catches those


class SpecReferenceError(ValueError):
    """A cross-field problem that belongs to a specific path (so the loader can point at its line);
    a ValueError so pydantic's validators report it."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path


class DuplicateKey(ValueError):
    """A JSON object names one key twice (which one counts would be the parser's choice)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class TooDeep(ValueError):
    """A request body nests JSON deeper than the registry reads."""

    def __init__(self, depth: int) -> None:
        super().__init__(f"the request body nests JSON deeper than {depth} levels")


class RefusedFormat(ValueError):
    """The model is saved in a format the registry does not load; the message names it and the fix."""


class InvalidSet(ValueError):
    """The data cannot be a validation set; the message says why in one line."""


class Unverified(Exception):
    """The run's provenance does not hold; the message is the one-line reason."""


class SandboxError(RuntimeError):
    """The scoring child did not answer as it should; the message says what happened in one line."""


class IdentityMisconfigured(Exception):
    """The portal's identity settings cannot be trusted: it serves no page (one line why, and the fix)."""


class MlflowDown(Exception):
    """MLflow did not answer: the CI job waits (queued, or finished with its result kept)."""


class ServiceFailed(Exception):
    """A local service did not start; ``log`` is its log file, if it has one."""

    def __init__(self, service: str, reason: str, log: Path | None) -> None:
        super().__init__(f"{service}: {reason}")
        self.service, self.reason, self.log = service, reason, log


class NotReproduced(UserError):
    """A registered version did not reproduce from its lineage; ``cause`` says which part failed
    (``commit``, ``data``, ``lock``, ``stage``, ``metrics``, ``model-file``), the message names it."""

    CAUSES = ("commit", "data", "lock", "stage", "metrics", "model-file")

    def __init__(self, cause: str, message: str, fix: str = "", **details: object) -> None:
        super().__init__(message, fix or "see the reproduction's log; the audit log keeps the verdict")
        self.cause = cause
        self.details = details
