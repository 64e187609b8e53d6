"""MLflow basic-auth's users and permissions, on the one :class:`~.mlflow_api.MlflowApi` client (its
session, its timeout policy, its errors). Who gets which user and grant is :mod:`shipyard.identity`'s
business; this module only speaks MLflow's user-management API."""

from __future__ import annotations

from shipyard import service_calls
from shipyard.errors import (
    AlreadyExists,
    BadInput,
    NotFound,
    NotSignedIn,
    Refused,
    ServiceUnavailable,
    UserError,
)
from shipyard.records.mlflow_api import MlflowApi

PERMISSIONS_API = "3.0"  # basic-auth serves its permission endpoints under /api/3.0/mlflow/


def client(url: str, username: str | None = None, password: str | None = None, **kw) -> MlflowApi:
    """A client bounded by the one service timeout (user management is no long read)."""
    return MlflowApi(url, service_calls.timeout(), username=username, password=password, **kw)


class MlflowAuth:
    """Users and per-resource grants. ``admin``: the client acts as the platform's admin account, and
    a 401 means the data dir's identity files no longer match MLflow's user store."""

    def __init__(self, api: MlflowApi, admin: bool = False) -> None:
        self.api = api
        self.admin = admin

    def _call(self, method: str, endpoint: str, payload: dict, api: str = "2.0") -> dict:
        try:
            return self.api.call(method, endpoint, payload, api=api)
        except NotSignedIn:
            if not self.admin:
                raise
            raise UserError(
                f"MLflow at {self.api.base_url} refused the platform admin credentials",
                "the identity files in the data dir do not match MLflow's user store: restore them",
            ) from None

    def has_user(self, username: str) -> bool:
        try:
            self._call("GET", "users/get", {"username": username})
        except NotFound:
            return False
        return True

    def ensure_user(self, username: str, password: str, admin: bool = False) -> bool:
        """Create the user (True), or leave an existing one alone (False): checking a password costs
        a slow hash on the server, and every `up` would pay it per user."""
        if self.has_user(username):
            return False  # its password file was written when it was created (0600, kept across `up`s)
        self._must(
            "POST", "users/create", {"username": username, "password": password}, f"create user {username}"
        )
        if admin:
            self._must(
                "PATCH", "users/update-admin", {"username": username, "is_admin": True}, f"admin {username}"
            )
        return True

    def grant(self, username: str, resource_type: str, resource_id: str, permission: str) -> None:
        """A per-resource grant (needs MANAGE on the resource); a grant already made stays as it is.
        :class:`NotFound` when MLflow has no such user."""
        body = {"username": username, "resource_type": resource_type, "resource_id": resource_id,
                "permission": permission}  # fmt: skip
        try:
            self._call("POST", "users/permissions/grant", body, api=PERMISSIONS_API)
        except AlreadyExists:
            return  # granted by an earlier `up` or project create
        except NotFound:
            raise NotFound(
                f"MLflow has no user {username!r}", "run `shipyard up` to create the spec's people"
            ) from None
        except (Refused, BadInput) as exc:
            raise Refused(
                f"MLflow refused to grant {permission} on {resource_type} {resource_id} to {username}: "
                f"{exc.message}",
                "only an account that manages the resource may grant on it",
            ) from None

    def permission(self, username: str, resource_type: str, resource_id: str) -> str:
        """The user's permission on the resource ("" when MLflow names none)."""
        params = {"username": username, "resource_type": resource_type, "resource_id": resource_id}
        found = self._call("GET", "users/permissions/get", params, api=PERMISSIONS_API)
        return found.get("permission", "")

    def _must(self, method: str, endpoint: str, payload: dict, what: str) -> None:
        try:
            self._call(method, endpoint, payload)
        except (Refused, BadInput, NotFound) as exc:
            raise UserError(f"MLflow refused to {what}: {exc.message}", "see the MLflow log") from None


def ensure_registered_model(api: MlflowApi, name: str, tags: dict[str, str]) -> None:
    """``name`` in the model registry, created by ``api``'s account (its owner: MANAGE) if missing."""
    try:
        api.registered_model(name)
        return
    except NotFound:
        pass
    try:
        api.create_registered_model(name, tags)
    except AlreadyExists:
        pass  # made meanwhile by another `up` or provisioning


def accepts(url: str, username: str, password: str) -> bool:
    """True when MLflow accepts the credentials (an authenticated read answers 200)."""
    api = client(url, username, password)
    api.read_retry_delays = ()  # a sign-in asks once: a stopped MLflow is named at once
    try:
        api.get("experiments/search", max_results=1)
    except (Refused, NotFound, BadInput):
        return False
    except ServiceUnavailable as exc:
        if exc.detail.startswith("no answer within"):
            raise
        if exc.detail.startswith("HTTP "):
            return False  # it answered, just not 200
        raise UserError(f"MLflow at {url} is not reachable ({exc.detail})", "start it: shipyard up") from None
    return True


def answers_anonymously(url: str) -> bool:
    """True when MLflow answers without credentials (no identity store: a sign-in proves nothing)."""
    api = MlflowApi(url, 10, anonymous=True)
    api.read_retry_delays = ()
    try:
        api.get("experiments/search", max_results=1)
    except UserError:
        return False
    return True
