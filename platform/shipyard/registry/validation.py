"""A validator's independent validation set: evaluation data the project's team never sees.

SR 11-7 asks for validation independent of the model's developers. A validator (an approver outside
the project's team) registers a CSV for a model; the registry service keeps it as an artifact of a run
in the experiment ``shipyard-validation/<model>``, which the registry account creates (so it manages
it) and on which it grants ``DENY`` to the project's CI account and every person of its team. The
audit event holds the file's sha256: each submit downloads the set, checks that hash, and scores the
candidate and the champion on it as well as on the held-out split. The latest registered set counts.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from shipyard.audit import names as audit
from shipyard.audit.store import AuditStore, Event
from shipyard.errors import InvalidSet, NotFound, ServiceUnavailable, UserError
from shipyard.identity.names import ci_account
from shipyard.records import MlflowApi
from shipyard.records.auth import MlflowAuth
from shipyard.records.parse import kv
from shipyard.registry import names

MIN_ROWS = 10


@dataclass(frozen=True)
class ValidationSet:
    sha256: str
    rows: int
    columns: list[str]
    run_id: str
    registered_by: str
    at: str

    @classmethod
    def of(cls, event: Event) -> ValidationSet:
        d = event.details
        return cls(d["sha256"], int(d["rows"]), list(d["columns"]), d["run_id"], event.actor, event.at)

    def source(self) -> dict:
        return {"sha256": self.sha256, "rows": self.rows, "registered_by": self.registered_by, "at": self.at}


def check_csv(text: str) -> tuple[int, list[str]]:
    """(rows, columns) of a usable validation set, else :class:`InvalidSet`."""
    import pandas as pd

    if len(text.encode()) > names.MAX_VALIDATION_BYTES:
        raise InvalidSet(f"the validation set is larger than {names.MAX_VALIDATION_BYTES // 2**20} MiB")
    try:
        frame = pd.read_csv(io.StringIO(text))
    except (ValueError, pd.errors.ParserError) as exc:  # EmptyDataError is a ValueError
        first = (str(exc).splitlines() or [""])[0][:120]
        raise InvalidSet(f"the validation set is not a CSV table ({first})") from None
    if names.TARGET not in frame.columns:
        raise InvalidSet(f"the validation set has no {names.TARGET!r} column (the label)")
    if len(frame) < MIN_ROWS:
        raise InvalidSet(f"the validation set has {len(frame)} rows; at least {MIN_ROWS} are needed")
    if frame[names.TARGET].isna().any():
        raise InvalidSet(f"the validation set's {names.TARGET!r} column has empty values")
    return len(frame), [str(c) for c in frame.columns]


def experiment(api: MlflowApi, model: str) -> str:
    """The validation experiment's id, made now by the calling (registry) account if missing.

    One that exists must be the registry's: tagged by it and managed by it (MLflow makes whoever
    creates an experiment its manager, so a member who created it first keeps MANAGE and reads every
    set). Anything else is squatted and refused, by name."""
    name = names.VALIDATION_EXPERIMENT.format(model=model)
    found = api.experiment_by_name(name)
    if found is None:
        return api.create_experiment(name, {names.VALIDATION_KIND: model})
    experiment_id = str(found["experiment_id"])
    if kv(found.get("tags")).get(names.VALIDATION_KIND) != model or not _manages(api, experiment_id):
        raise InvalidSet(
            f"the validation experiment {name!r} exists but was not made by the registry (squatted: "
            "whoever made it manages it and could read the sets)"
        )
    return experiment_id


def _manages(api: MlflowApi, experiment_id: str) -> bool:
    """Whether this client's account holds MANAGE on the experiment (MLflow answers it about oneself)."""
    if api.auth is None:
        return True  # an MLflow without basic-auth: no account owns anything, none can squat either
    try:
        return MlflowAuth(api).permission(api.auth[0], "experiment", experiment_id) == "MANAGE"
    except ServiceUnavailable:
        raise ServiceUnavailable("MLflow", api.base_url, "the permission check did not answer") from None
    except UserError:  # no permission of its own on it (or refused to say): not managed by this account
        return False


def deny_team(api: MlflowApi, experiment_id: str, project: str, team_people: set[str]) -> None:
    """The project's CI account and its team may not read the set (idempotent: run on each use, so
    someone who joined the team since is denied too)."""
    for user in sorted({ci_account(project), *team_people}):
        try:
            MlflowAuth(api).grant(user, "experiment", experiment_id, "DENY")
        except NotFound:  # in the spec but not yet in MLflow (`up` creates them): cannot sign in either
            continue


def register(api: MlflowApi, store: AuditStore, caller: str, project: str, team_people: set[str],
             text: str, filename: str, note: str) -> Event:  # fmt: skip
    rows, columns = check_csv(text)
    data = text.encode()
    digest = hashlib.sha256(data).hexdigest()
    experiment_id = experiment(api, project)
    deny_team(api, experiment_id, project, team_people)
    run = api.create_run(experiment_id, f"validation-{digest[:12]}", {names.VALIDATION_KIND: project})
    run_id = run["info"]["run_id"]
    import tempfile

    with tempfile.TemporaryDirectory(prefix="shipyard-validation-") as tmp:
        path = Path(tmp) / Path(names.VALIDATION_ARTIFACT).name
        path.write_bytes(data)
        api.log_artifact(run_id, str(path), str(Path(names.VALIDATION_ARTIFACT).parent))
    api.end_run(run_id, "FINISHED")
    details = {"sha256": digest, "rows": rows, "columns": columns, "run_id": run_id,
               "experiment_id": experiment_id, "filename": filename[:200], "note": note}  # fmt: skip
    return store.append(caller, audit.VALIDATION_SET, project, project, "", details)


def latest(store: AuditStore, model: str) -> ValidationSet | None:
    events = store.events(model=model, action=audit.VALIDATION_SET)
    return ValidationSet.of(events[-1]) if events else None


def fetch(api: MlflowApi, vset: ValidationSet, folder: Path) -> Path:
    """The set's file, checked against the hash its audit event recorded."""
    try:
        path = Path(api.download_artifact(vset.run_id, names.VALIDATION_ARTIFACT, str(folder)))
    except ServiceUnavailable:
        raise InvalidSet(f"the validation set of run {vset.run_id} cannot be read from MLflow") from None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != vset.sha256:
        raise InvalidSet(
            f"the validation set in MLflow (sha256 {digest[:12]}) is not the one {vset.registered_by} "
            f"registered ({vset.sha256[:12]}): it was changed outside the platform"
        )
    return path
