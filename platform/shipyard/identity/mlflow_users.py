"""Users and grants in MLflow's own basic-auth store, made from the spec by ``shipyard up``.

``default_permission = READ``: every signed-in user reads everything; writes need a grant.
- people: a user each; platform admins are MLflow admins; team owners and members get EDIT on
  their team's project experiments (runs, artifacts, logged models; no model versions or aliases).
- ``ci-<project>``: EDIT on its own project's experiment only (the CI runner injects it).
- ``shipyard-runner``: EDIT on every project experiment (records CI runs).
- ``shipyard-registry``: creates each project's registered model, so it alone has MANAGE on it.
MLflow lets any signed-in user create a *new* experiment or registered model (and own it): the
registry only governs models it created, and the audit log flags versions no event explains.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard import tags
from shipyard.errors import UserError
from shipyard.identity import secrets
from shipyard.identity.credentials import Credentials
from shipyard.identity.names import ADMIN, PLATFORM_ADMIN, PORTAL, REGISTRY, RUNNER, ci_account
from shipyard.identity.people import people
from shipyard.spec.model import PlatformSpec

if TYPE_CHECKING:  # records (and requests) are imported where a call is made: `shipyard status` needs none
    from shipyard.records.auth import MlflowAuth


def credentials(data_dir: Path, username: str) -> Credentials | None:
    pw = secrets.password(data_dir, username)
    return Credentials(username, pw) if pw else None


def require(data_dir: Path, username: str) -> Credentials:
    creds = credentials(data_dir, username)
    if creds is None:
        raise UserError(
            f"no credentials for {username!r} in {secrets.identity_dir(data_dir)}",
            f"start the platform once (`shipyard up --data-dir {data_dir}`): it creates them",
        )
    return creds


def ensure_secrets(spec: PlatformSpec, data_dir: Path) -> None:
    """Passwords for every service account and person (kept if they exist)."""
    for name in (ADMIN, REGISTRY, RUNNER, PORTAL, *people(spec)):
        secrets.ensure_password(data_dir, name)
    secrets.ensure_flask_secret(data_dir)


def AuthAdmin(url: str, admin: Credentials) -> MlflowAuth:  # noqa: N802 (it was a class; callers kept)
    """MLflow's user-management API, called as the platform's admin account."""
    from shipyard.records import auth

    return auth.MlflowAuth(auth.client(url, admin.username, admin.password), admin=True)


def provision_people(spec: PlatformSpec, data_dir: Path, url: str) -> list[str]:
    """Create or update every user; returns the usernames created now."""
    admin = AuthAdmin(url, require(data_dir, ADMIN))
    created = []
    everyone = people(spec)
    for name in (REGISTRY, RUNNER, PORTAL):
        if admin.ensure_user(name, require(data_dir, name).password):
            created.append(name)
    for email, person in everyone.items():
        pw = secrets.ensure_password(data_dir, email)
        if admin.ensure_user(email, pw, admin=person.has(PLATFORM_ADMIN)):
            created.append(email)
    for project in project_experiments(admin):
        provision_project(spec, data_dir, url, project["name"], project["experiment_id"], project["team"])
    return created


def project_experiments(admin: MlflowAuth) -> list[dict]:
    """Every project's name, experiment id and team (every page: records.read.list_projects)."""
    from shipyard.records.read import list_projects

    found = list_projects(admin.api)
    return [{"name": p.name, "experiment_id": p.experiment_id, "team": p.team} for p in found]


def provision_project(
    spec: PlatformSpec, data_dir: Path, url: str, project: str, experiment_id: str, team: str
) -> Credentials:
    """The project's CI user and grants, and its registered model owned by the registry account."""
    admin = AuthAdmin(url, require(data_dir, ADMIN))
    ci = Credentials(ci_account(project), secrets.ensure_password(data_dir, ci_account(project)))
    admin.ensure_user(ci.username, ci.password)
    admin.grant(ci.username, "experiment", experiment_id, "EDIT")
    admin.grant(RUNNER, "experiment", experiment_id, "EDIT")
    writers: Iterable[str] = ()
    try:
        t = spec.team(team)
        writers = {e.lower() for e in (*t.owners, *t.members)}
    except KeyError:
        pass
    for email in writers:
        admin.ensure_user(email, secrets.ensure_password(data_dir, email))
        admin.grant(email, "experiment", experiment_id, "EDIT")
    admin.grant(REGISTRY, "experiment", experiment_id, "EDIT")  # it writes the facts' copies (tags)
    ensure_registered_model(url, require(data_dir, REGISTRY), project)
    return ci


def ensure_registered_model(url: str, registry: Credentials, project: str) -> None:
    """Create ``<project>`` in the model registry as the registry account (its owner: MANAGE)."""
    from shipyard.records import auth

    api = auth.client(url, registry.username, registry.password)
    auth.ensure_registered_model(api, project, {tags.PROJECT: project})


def provision_signed_in_people(spec: PlatformSpec, url: str, admin: Credentials) -> list[str]:
    """Behind an OIDC proxy (a cluster): every person of the spec as an MLflow user (username = their
    lower-cased email) with a random password nobody is told (they sign in through the IdP), platform
    admins as MLflow admins, and each team's people with EDIT on their team's project experiments, as
    :func:`provision_people` does on one machine. Returns the usernames created now; existing users
    are left alone (grants are added again, idempotently)."""
    import secrets as random

    client = AuthAdmin(url, admin)
    created = []
    for email, person in people(spec).items():
        if client.ensure_user(email, random.token_urlsafe(32), admin=person.has(PLATFORM_ADMIN)):
            created.append(email)
    for project in project_experiments(client):
        try:
            team = spec.team(project["team"])
        except KeyError:
            continue
        for email in {e.lower() for e in (*team.owners, *team.members)}:
            client.grant(email, "experiment", project["experiment_id"], "EDIT")
    return created


def main(argv: list[str] | None = None) -> int:
    """``python -m shipyard.identity.mlflow_users --spec FILE``: :func:`provision_signed_in_people`
    with MLflow's URL and admin password from ``SHIPYARD_MLFLOW_URL``/``MLFLOW_ADMIN_PASSWORD`` (the
    registry's init container on a cluster whose MLflow uses OIDC)."""
    import argparse
    import os

    from shipyard.platform.env import ENV_MLFLOW_ADMIN_PASSWORD, ENV_REGISTRY_MLFLOW_URL
    from shipyard.spec import load_spec

    parser = argparse.ArgumentParser(prog="python -m shipyard.identity.mlflow_users")
    parser.add_argument("--spec", required=True)
    args = parser.parse_args(argv)
    admin = Credentials("admin", os.environ[ENV_MLFLOW_ADMIN_PASSWORD])
    created = provision_signed_in_people(
        load_spec(Path(args.spec)), os.environ[ENV_REGISTRY_MLFLOW_URL], admin
    )
    print(f"people: {len(created)} MLflow users created" + (f" ({', '.join(created)})" if created else ""))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
