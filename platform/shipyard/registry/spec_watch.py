"""The registry follows its spec file: a changed gate, tolerance or tier applies from the next request,
without a restart, and the change is in the audit log (``spec.governance_changed``).

The file is looked at (its mtime and size) on each request and read again only when those moved; its
sha256 decides whether it really changed. A spec that no longer validates is not applied: the registry
keeps the last good one and says so on stderr once per bad version of the file.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from shipyard.spec.model import PlatformSpec

REGISTRY_ACTOR = "shipyard-registry (the spec file changed)"


class SpecWatch:
    def __init__(
        self, path: Path, spec: PlatformSpec, on_change: Callable[[PlatformSpec], None] | None = None
    ):
        self.path = path
        self.spec = spec
        self.on_change = on_change
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._digest = self._sha256()
        self._bad: str | None = None  # the digest of a file that did not validate (reported once)

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def _sha256(self) -> str | None:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return None

    def current(self) -> PlatformSpec:
        """The spec as the file says now (the last valid one if the file is missing or invalid)."""
        stamp = self._stat()
        if stamp == self._stamp or stamp is None:
            return self.spec
        with self._lock:
            if stamp == self._stamp:
                return self.spec
            self._stamp = stamp
            digest = self._sha256()
            if digest is None or digest == self._digest or digest == self._bad:
                return self.spec
            from shipyard.errors import UserError
            from shipyard.spec import load_spec

            try:
                spec = load_spec(self.path)
            except UserError as exc:  # SpecError is one: keep governing by the last valid spec
                self._bad = digest
                print(f"registry: {self.path} changed but is not valid, keeping the last spec: {exc.message}",
                      file=sys.stderr)  # fmt: skip
                return self.spec
            self._digest, self.spec = digest, spec
            if self.on_change is not None:
                self.on_change(spec)
            return spec


def follow(app, registry, watch: SpecWatch):
    """``app`` (ASGI) with the registry's spec brought up to date before each HTTP request."""

    async def followed(scope, receive, send):
        if scope.get("type") == "http":
            registry.spec = watch.current()
        await app(scope, receive, send)

    return followed


def audit_changes(store, spec_file: Path) -> Callable[[PlatformSpec], None]:
    """``on_change`` that records a governance change of the spec in the audit log (nothing when only
    other parts of the spec changed)."""
    from shipyard.audit.changes import record_governance

    def record(spec: PlatformSpec) -> None:
        record_governance(store, spec, REGISTRY_ACTOR, str(spec_file))

    return record
