"""Registered versions' files against the sha256s their registration events recorded.

The registry keeps each version's files in a run only it can write and records every file's sha256 in
the ``submit.registered`` event (:mod:`shipyard.registry.model_files`). This downloads what each
version's source holds now and names every file that changed, appeared or went missing. Versions
registered before hashes were recorded are listed as unverifiable, not as findings.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from shipyard.audit import names as audit
from shipyard.audit.names import ARTIFACTS
from shipyard.audit.store import AuditStore
from shipyard.errors import NotFound, UserError
from shipyard.records import MlflowApi
from shipyard.records.artifact_files import artifact_uri_of, download


@dataclass(frozen=True)
class FileChange:
    model: str
    version: str
    file: str
    what: str  # "changed" | "added" | "missing" | "unreadable" | "moved"

    @property
    def key(self) -> str:
        return f"artifact:{self.model}:{self.version}:{self.file}:{self.what}"

    def describe(self) -> str:
        return f"{self.model} v{self.version}: file {self.file} {self.what} since registration"


@dataclass(frozen=True)
class DeepCheck:
    checked: list[tuple[str, str]]  # (model, version) re-hashed
    unhashed: list[tuple[str, str]]  # registered before hashes were recorded
    changes: list[FileChange]

    @property
    def ok(self) -> bool:
        return not self.changes


def registered(store: AuditStore) -> dict[tuple[str, str], dict]:
    """(model, version) -> the registration event's details (the latest, for a retried submit)."""
    return {(e.model, e.version): e.details for e in store.events(action=audit.SUBMIT_REGISTERED)}


def check(store: AuditStore, api: MlflowApi, only: set[tuple[str, str]] | None = None) -> DeepCheck:
    """Re-hash every registered version's files (or those in ``only``)."""
    checked, unhashed, changes = [], [], []
    for (model, version), details in sorted(registered(store).items()):
        if only is not None and (model, version) not in only:
            continue
        kept = details.get(ARTIFACTS) or {}
        if not kept.get("files"):
            unhashed.append((model, version))
            continue
        checked.append((model, version))
        changes += compare(api, model, version, kept)
    return DeepCheck(checked, unhashed, changes)


def compare(api: MlflowApi, model: str, version: str, kept: dict) -> list[FileChange]:
    try:
        source = str(api.model_version(model, version).get("source", ""))
    except NotFound:
        return [FileChange(model, version, "(all)", "missing")]
    if source != kept.get("source"):
        return [FileChange(model, version, "(source)", "moved")]
    with tempfile.TemporaryDirectory(prefix="shipyard-verify-") as tmp:
        try:
            now = download(api, artifact_uri_of(api, source), Path(tmp))
        except UserError:
            return [FileChange(model, version, "(all)", "unreadable")]
    recorded: dict[str, str] = kept["files"]
    found = [FileChange(model, version, f, "changed") for f in recorded if f in now and now[f] != recorded[f]]
    found += [FileChange(model, version, f, "missing") for f in recorded if f not in now]
    found += [FileChange(model, version, f, "added") for f in now if f not in recorded]
    return found
