"""The registry service's HTTP API, called as the signed-in identity (CLI, the template's `make register`,
portal). A refusal arrives as :class:`~shipyard.errors.RegistryRefused` with the status's fix line."""

from __future__ import annotations

import os
import re

from shipyard import service_calls
from shipyard.errors import BadInput, RegistryRefused, UserError
from shipyard.identity.credentials import Credentials
from shipyard.platform.env import ENV_REGISTRY, ENV_REPRODUCE_TIMEOUT
from shipyard.spec.fields import NAME_PATTERN

SERVICE = "the registry service"

# the portal acts for the person signed in through its OIDC proxy: it calls as its own account
# (shipyard.identity.names.PORTAL) and names the person here; the registry takes it from that account only
ON_BEHALF_OF = "X-Shipyard-On-Behalf-Of"


def _fix(status: int) -> str:
    return {
        401: "sign in: shipyard login --user YOU@example.com",
        403: "ask someone with the role this needs",
        404: "check the model name and version (shipyard model list)",
        409: "see the reason; the audit log has the history (shipyard audit log --model MODEL)",
        413: "send a smaller file: a validation set is at most 32 MiB of CSV",
        422: "see the reason; fix the run's lineage or evaluation data and push again",
    }.get(status, "see the registry service's log (data dir logs/registry.log)")


def _model(name: str) -> str:
    """A model name as a path segment: a project's name (a DNS label), never a path such as ``../x``."""
    if not re.fullmatch(NAME_PATTERN, name):
        raise BadInput(
            f"{name!r} is not a model name (lowercase letters, digits and '-')",
            "pass a name `shipyard model list` shows",
        )
    return name


def registry_url(url: str | None = None) -> str:
    found = url or os.environ.get(ENV_REGISTRY)
    if not found:
        raise UserError("no registry service URL is known", f"run `shipyard up`, or set ${ENV_REGISTRY}")
    return found.rstrip("/")


def call(
    url: str,
    creds: Credentials,
    path: str,
    body: dict | None = None,
    on_behalf_of: str | None = None,
    scoring: bool = False,
    bound_s: float | None = None,
) -> dict:
    """POST as ``creds``; ``on_behalf_of``: the person the portal's account acts for (the registry
    takes it from the portal's account only). Bounded by the platform's service timeout, or by its
    scoring timeout for a call that scores models (``scoring``)."""
    import requests  # here: the names above are read where requests' import would only cost

    headers = {ON_BEHALF_OF: on_behalf_of} if on_behalf_of else None
    if bound_s is not None:  # a call that runs a pipeline (a reproduction)
        bound, setting = bound_s, f"${ENV_REPRODUCE_TIMEOUT}"
    elif scoring:
        bound, setting = service_calls.scoring_timeout(), "services.calls.scoring_timeout_seconds"
    else:
        bound, setting = service_calls.timeout(), service_calls.bound_name()
    try:
        resp = requests.post(f"{url}{path}", json=body or {}, auth=creds.auth, headers=headers, timeout=bound)
    except requests.Timeout:
        raise service_calls.timed_out(SERVICE, url, bound, setting) from None
    except requests.RequestException as exc:
        raise UserError(
            f"the registry service at {url} is not reachable ({type(exc).__name__})", "start it: shipyard up"
        ) from None
    try:
        data = resp.json()
    except ValueError:
        data = {"error": resp.text[:300]}
    if not resp.ok:
        raise RegistryRefused(
            data.get("error", f"HTTP {resp.status_code}"), resp.status_code, data, _fix(resp.status_code)
        )
    return data


def submit(url: str, creds: Credentials, run_id: str) -> dict:
    return call(url, creds, "/submit", {"run_id": run_id}, scoring=True)


def version_action(
    url: str,
    creds: Credentials,
    model: str,
    version: int,
    action: str,
    note: str = "",
    on_behalf_of: str | None = None,
) -> dict:
    return call(
        url, creds, f"/models/{_model(model)}/versions/{int(version)}/{action}", {"note": note}, on_behalf_of
    )


def validation_set(
    url: str, creds: Credentials, model: str, csv_text: str, filename: str, note: str = ""
) -> dict:
    body = {"csv": csv_text, "filename": filename, "note": note}
    return call(url, creds, f"/models/{_model(model)}/validation-set", body, scoring=True)


def reproduce(url: str, creds: Credentials, model: str, version: int) -> dict:
    """Rebuild a version from its lineage on the platform (minutes: bounded by the pipeline's own
    limit, ``$SHIPYARD_REPRODUCE_TIMEOUT``, plus a margin)."""
    bound = float(os.environ.get(ENV_REPRODUCE_TIMEOUT, "1800")) + 120
    return call(url, creds, f"/models/{_model(model)}/versions/{int(version)}/reproduce", bound_s=bound)


def champions(url: str, creds: Credentials) -> list[dict]:
    return call(url, creds, "/champions")["champions"]


def project_facts(url: str, creds: Credentials, project: str, team: str, tier: str, owner: str) -> dict:
    """Provisioning tells the registry a new project's facts (the platform admin's account)."""
    return call(url, creds, f"/projects/{project}/facts", {"team": team, "tier": tier, "owner": owner})


def set_tier(url: str, creds: Credentials, project: str, tier: str, reason: str) -> dict:
    return call(url, creds, f"/projects/{project}/tier", {"tier": tier, "reason": reason})
