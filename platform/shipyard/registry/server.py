"""The registry service's HTTP API (Starlette + uvicorn), started by ``shipyard up``.

Every request signs in with HTTP basic auth: the same user and password as MLflow, checked against
MLflow (cached for a few minutes, as MLflow's own check is a slow hash). Endpoints:
``POST /submit`` {run_id}; ``POST /models/{model}/versions/{version}/{approve|promote|reject|retire|comment}``
{note}; ``POST /models/{model}/validation-set`` {csv, filename, note}; ``GET /whoami``; ``GET /health``.
With ``--trust-proxy-email`` (a cluster whose MLflow uses OIDC: an oauth2-proxy sidecar in front),
a person of the spec named by the proxy's ``X-Forwarded-Email`` from a loopback peer is signed in too.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import hashlib
import os
import sys
import threading
import time
import traceback
from collections.abc import Collection
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from shipyard.audit import names as audit
from shipyard.audit.store import AuditStore
from shipyard.errors import RequestRefused, ServiceUnavailable, UserError
from shipyard.identity.attempts import Throttle, too_many
from shipyard.identity.mlflow_users import Credentials
from shipyard.identity.names import PORTAL, normal
from shipyard.identity.people import people, person
from shipyard.identity.proxy_auth import proxied_email
from shipyard.identity.session import check
from shipyard.platform.env import ENV_MLFLOW_USERNAME
from shipyard.registry import json_body, reproduce
from shipyard.registry.names import MAX_VALIDATION_BYTES, ON_BEHALF_OF
from shipyard.registry.notes import request_note
from shipyard.registry.service import ACTING_VIA, Registry
from shipyard.registry.versions import NotAVersion, parse_version
from shipyard.spec.model import PlatformSpec

AUTH_CACHE_S = 600
MAX_BODY = 2 * MAX_VALIDATION_BYTES + 65536  # a validation set's CSV inside JSON, escapes included
ACTIONS = {
    "approve": None,
    "promote": None,
    "reject": audit.REJECT,
    "retire": audit.RETIRE,
    "comment": audit.COMMENT,
}


class Authenticator:
    """``proxy_people``: behind an OIDC proxy sidecar (a cluster whose MLflow uses OIDC), the people
    whose ``X-Forwarded-Email`` from a loopback peer is believed; None (one machine, where every
    caller is loopback) believes no header."""

    def __init__(self, mlflow_url: str, proxy_people: Collection[str] | None = None) -> None:
        self.url = mlflow_url
        self.proxy_people = None if proxy_people is None else frozenset(proxy_people)
        self.cache: dict[tuple[str, str], float] = {}
        self.lock = threading.Lock()
        self.throttle = Throttle()  # wrong passwords per account and address: waits that double

    def __call__(self, request: Request) -> str | None:
        if self.proxy_people is not None:
            email = proxied_email(request.client.host if request.client else None, request.headers)
            if email is not None:
                return self.proxied(email)
        return self.basic(request)

    def proxied(self, email: str) -> str | None:
        """The proxy's person, if the spec names them (anyone else the IdP knows is nobody here)."""
        return email if email in self.proxy_people else None

    def basic(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        if not header.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        address = request.client.host if request.client else ""
        wait = self.throttle.wait_s(user, address)
        if wait > 0:  # even the right password waits: guessing on does not find it sooner
            raise RequestRefused(too_many(wait), 429)
        key = (user, hashlib.sha256(password.encode()).hexdigest())
        with self.lock:
            if self.cache.get(key, 0) > time.monotonic():
                return user
        if not user or not check(self.url, Credentials(user, password)):
            self.throttle.failed(user, address)
            return None
        self.throttle.succeeded(user, address)
        with self.lock:
            self.cache[key] = time.monotonic() + AUTH_CACHE_S
        return user


def on_behalf_of(
    spec: PlatformSpec, caller: str, request: Request, portal_behind_proxy: bool = False
) -> tuple[str, str | None]:
    """Who the request acts as, and the account it came through (None: the caller itself).

    Only while the portal runs behind the identity proxy (``--portal-behind-proxy``, or MLflow's
    ``auth: oidc`` in the spec): a portal in sign-in mode signs people in itself, so its account
    naming a person proves nothing (anyone holding its password could name anyone). Only the
    portal's account (signed in with its own basic-auth login) may name a person in
    :data:`ON_BEHALF_OF`; from any other caller the header is refused (403), never ignored. The named
    email must be a person of the platform; every rule after this (approver, independence, team) is
    applied to that person exactly as to their own call, and the portal's account has no role itself."""
    named = request.headers.get(ON_BEHALF_OF)
    if named is None:
        return caller, None
    if caller != PORTAL:
        raise RequestRefused(
            f"{caller} may not act on behalf of others: {ON_BEHALF_OF} is the portal's alone"
        )
    if not portal_behind_proxy:
        raise RequestRefused(
            f"{ON_BEHALF_OF} refused: this platform's portal does not run behind the identity proxy "
            "(sign-in mode), so the portal's account cannot vouch for a person"
        )
    email = normal(named)
    if not email or person(spec, email) is None:
        raise RequestRefused(f"{ON_BEHALF_OF}: {email or '(empty)'} is not a person of this platform")
    return email, PORTAL


async def read_json(request: Request):
    """The body as JSON, read up to :data:`MAX_BODY` (a larger one is refused before it is all read),
    nested at most :data:`json_body.MAX_DEPTH` deep."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise RequestRefused(f"the request body is larger than {MAX_BODY // 2**20} MiB", 413)
        chunks.append(chunk)
    try:
        return json_body.loads(b"".join(chunks))
    except json_body.TooDeep as exc:
        raise RequestRefused(str(exc), 400) from None


def build_app(
    registry: Registry, authenticate: Authenticator, portal_behind_proxy: bool = False
) -> Starlette:
    lock = threading.Lock()  # one registry change at a time: aliases and the chain stay consistent

    async def signed_in(request: Request) -> str:
        user = await run_in_threadpool(authenticate, request)
        if user is None:
            raise RequestRefused("sign in: HTTP basic auth with your platform user and password", 401)
        return user

    def answer(fn, exclusive: bool = True):
        async def endpoint(request: Request) -> JSONResponse:
            try:
                caller, via = on_behalf_of(
                    registry.spec, await signed_in(request), request, portal_behind_proxy
                )
                body = await read_json(request) if request.method == "POST" else {}
                if not isinstance(body, dict):
                    raise RequestRefused("the request body must be a JSON object", 400)

                def locked():
                    with lock if exclusive else contextlib.nullcontext():  # a reproduction takes minutes
                        token = ACTING_VIA.set(via)  # this thread's change: its audit events say so
                        try:
                            return fn(caller, request, body)
                        finally:
                            ACTING_VIA.reset(token)

                return JSONResponse(await run_in_threadpool(locked))
            except RequestRefused as exc:
                headers = {"WWW-Authenticate": 'Basic realm="shipyard"'} if exc.status == 401 else None
                return JSONResponse({"error": exc.reason}, status_code=exc.status, headers=headers)
            except ServiceUnavailable as exc:  # MLflow did not answer: the caller may retry
                return JSONResponse({"error": exc.message}, status_code=503)
            except UserError as exc:  # MLflow refused the registry account (401/403) or a name: say so
                return JSONResponse({"error": exc.message}, status_code=502)
            except ValueError:
                return JSONResponse({"error": "the request body is not JSON"}, status_code=400)
            except Exception as exc:  # a bug: say so in one line, keep the traceback in the log
                traceback.print_exc()
                return JSONResponse(
                    {"error": f"registry error: {type(exc).__name__}: {exc}"}, status_code=500
                )

        return endpoint

    def submit(caller, request, body):
        run_id = body.get("run_id")
        if not isinstance(run_id, str) or not run_id:
            raise RequestRefused("submit needs {'run_id': ...}", 400)
        return registry.submit(caller, run_id)

    def version_action(caller, request, body):
        model, version = request.path_params["model"], request.path_params["version"]
        action = request.path_params["action"]
        if action not in ACTIONS:
            raise RequestRefused(f"unknown action {action!r}: one of {', '.join(ACTIONS)}", 404)
        note = request_note(body, action)
        try:
            version = str(parse_version(version))
        except NotAVersion as exc:
            raise RequestRefused(exc.message, 400) from None
        if action == "approve":
            return registry.approve(caller, model, version, note)
        if action == "promote":
            return registry.promote(caller, model, version, note)
        return registry.record(caller, ACTIONS[action], model, version, note)

    def validation_set(caller, request, body):
        text, filename = body.get("csv"), body.get("filename", "")
        if not isinstance(text, str) or not text:
            raise RequestRefused("a validation set needs {'csv': <the CSV text>, 'filename': ...}", 400)
        note = request_note(body, "validation-set")
        return registry.register_validation_set(
            caller, request.path_params["model"], text, str(filename), note
        )

    def project_facts(caller, request, body):
        fields = {k: body.get(k) for k in ("team", "tier", "owner")}
        if not all(isinstance(v, str) and v for v in fields.values()):
            raise RequestRefused("project facts need {'team': ..., 'tier': ..., 'owner': ...}", 400)
        return registry.provisioned(caller, request.path_params["project"], **fields)

    def set_tier(caller, request, body):
        tier, reason = body.get("tier"), body.get("reason")
        if not isinstance(tier, str) or not isinstance(reason, str):
            raise RequestRefused("set-tier needs {'tier': ..., 'reason': ...}", 400)
        return registry.set_tier(caller, request.path_params["project"], tier, reason[:2000])

    def reproduce_version(caller, request, body):
        return reproduce.http_reproduce(registry, caller, request.path_params)

    def champions(caller, request, body):
        return reproduce.http_champions(registry, caller)

    def whoami(caller, request, body):
        via = ACTING_VIA.get()
        return {"user": caller, **({"via": via} if via else {})}

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/whoami", answer(whoami)),
            Route("/submit", answer(submit), methods=["POST"]),
            Route(
                "/models/{model}/versions/{version}/reproduce",
                answer(reproduce_version, exclusive=False),
                methods=["POST"],
            ),  # fmt: skip
            Route("/champions", answer(champions), methods=["POST"]),
            Route("/models/{model}/versions/{version}/{action}", answer(version_action), methods=["POST"]),
            Route("/models/{model}/validation-set", answer(validation_set), methods=["POST"]),
            Route("/projects/{project}/facts", answer(project_facts), methods=["POST"]),
            Route("/projects/{project}/tier", answer(set_tier), methods=["POST"]),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    from shipyard.platform.resolver import platform_from_data_dir
    from shipyard.spec import load_spec

    parser = argparse.ArgumentParser(prog="shipyard-registry")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mlflow", help="MLflow URL (default: the embedded platform's, from state.json)")
    parser.add_argument(
        "--trust-proxy-email",
        action="store_true",
        help="believe X-Forwarded-Email from a loopback peer (only behind an OIDC proxy sidecar)",
    )
    parser.add_argument(
        "--portal-behind-proxy",
        action="store_true",
        help="the portal runs behind the identity proxy: its account may name a person (On-Behalf-Of)",
    )
    parser.add_argument(
        "--unverified-hosted-ci",
        action="store_true",
        help="accept GitHub/GitLab CI runs the registry cannot check (the evidence says: unverified)",
    )
    args = parser.parse_args(argv)
    data_dir = Path(args.data_dir)
    try:  # the embedded platform's MLflow, as `shipyard up` recorded it (the one resolver reads state.json)
        mlflow_url = args.mlflow or platform_from_data_dir(data_dir).endpoints.mlflow
    except UserError as exc:
        print(f"error: {exc.message}\n  fix: {exc.fix}", file=sys.stderr)
        return 2
    if not os.environ.get(ENV_MLFLOW_USERNAME):
        print("the registry service needs its MLflow credentials in the environment", file=sys.stderr)
        return 2
    try:  # SQLite under --data-dir, or Postgres when SHIPYARD_AUDIT_DATABASE_URL is set (a cluster's)
        store = AuditStore.of(data_dir)
    except UserError as exc:  # the audit database is down or refuses: one line and its fix, no traceback
        print(f"error: {exc.message}\n  fix: {exc.fix}", file=sys.stderr)
        return 2
    # no model is loaded in this process: a submit's models are scored in a child without credentials
    # (shipyard.registry.sandbox), which imports scikit-learn, skops or torch itself

    spec = load_spec(Path(args.spec))
    registry = Registry(spec, mlflow_url, store, data_dir, args.unverified_hosted_ci)
    proxy_people = set(people(spec)) if args.trust_proxy_email else None
    behind_proxy = args.portal_behind_proxy or spec.services.mlflow.auth == "oidc"
    app = build_app(registry, Authenticator(mlflow_url, proxy_people), behind_proxy)
    from shipyard.registry.spec_watch import SpecWatch, audit_changes, follow

    # gates and tiers changed in the spec file apply from the next request, recorded in the audit log
    app = follow(app, registry, SpecWatch(Path(args.spec), spec, audit_changes(store, Path(args.spec))))
    # the peer as connected: X-Forwarded-For (which a proxy sends) must not replace it (proxy_auth)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", proxy_headers=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
