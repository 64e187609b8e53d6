"""Calling the registry service as the signed-in identity (CLI, the template's `make register`, portal)."""

from __future__ import annotations

import os

import requests

from shipyard import service_calls
from shipyard.errors import UserError
from shipyard.identity.mlflow_users import Credentials
from shipyard.registry.names import ENV_REGISTRY, ON_BEHALF_OF

SERVICE = "the registry service"


class RegistryRefused(UserError):
    def __init__(self, reason: str, status: int, body: dict) -> None:
        super().__init__(f"the registry refused: {reason}", _fix(status))
        self.reason, self.status, self.body = reason, status, body


def _fix(status: int) -> str:
    return {
        401: "sign in: shipyard login --user YOU@example.com",
        403: "ask someone with the role this needs",
        404: "check the model name and version (shipyard model list)",
        409: "see the reason; the audit log has the history (shipyard audit log --model MODEL)",
        413: "send a smaller file: a validation set is at most 32 MiB of CSV",
        422: "see the reason; fix the run's lineage or evaluation data and push again",
    }.get(status, "see the registry service's log (data dir logs/registry.log)")


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
    headers = {ON_BEHALF_OF: on_behalf_of} if on_behalf_of else None
    if bound_s is not None:  # a call that runs a pipeline (a reproduction)
        bound, setting = bound_s, "$SHIPYARD_REPRODUCE_TIMEOUT"
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
        raise RegistryRefused(data.get("error", f"HTTP {resp.status_code}"), resp.status_code, data)
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
    return call(url, creds, f"/models/{model}/versions/{int(version)}/{action}", {"note": note}, on_behalf_of)


def validation_set(
    url: str, creds: Credentials, model: str, csv_text: str, filename: str, note: str = ""
) -> dict:
    body = {"csv": csv_text, "filename": filename, "note": note}
    return call(url, creds, f"/models/{model}/validation-set", body, scoring=True)


def reproduce(url: str, creds: Credentials, model: str, version: int) -> dict:
    """Rebuild a version from its lineage on the platform (minutes: bounded by the pipeline's own
    limit, ``$SHIPYARD_REPRODUCE_TIMEOUT``, plus a margin)."""
    bound = float(os.environ.get("SHIPYARD_REPRODUCE_TIMEOUT", "1800")) + 120
    return call(url, creds, f"/models/{model}/versions/{int(version)}/reproduce", bound_s=bound)


def champions(url: str, creds: Credentials) -> list[dict]:
    return call(url, creds, "/champions")["champions"]


def project_facts(url: str, creds: Credentials, project: str, team: str, tier: str, owner: str) -> dict:
    """Provisioning tells the registry a new project's facts (the platform admin's account)."""
    return call(url, creds, f"/projects/{project}/facts", {"team": team, "tier": tier, "owner": owner})


def set_tier(url: str, creds: Credentials, project: str, tier: str, reason: str) -> dict:
    return call(url, creds, f"/projects/{project}/tier", {"tier": tier, "reason": reason})


def format_verdict(result: dict) -> list[str]:
    """The lines a CI log shows: outcome, both models' metrics on one dataset, the reasons."""
    v = result["verdict"]
    lines = [
        f"platform gate: {'PASSED' if v['passed'] else 'FAILED'} ({result['outcome']}"
        + (f", version {result['version']}" if result.get("version") else "")
        + f"; branch {result['branch']}, default {result['default_branch']})",
        f"  evaluation data: {v['eval_rows']} rows, sha256 {v['eval_hash'][:16]}",
    ]
    champion = v.get("champion") or {}
    for metric, value in v["candidate"].items():
        other = champion.get(metric)
        vs = (
            f"   champion v{v['champion_version']}: {other:.4f}   diff {value - other:+.4f}"
            if other is not None
            else ""
        )
        lines.append(f"  {metric:<10} candidate: {value:.4f}{vs}")
    other = v.get("validation")
    if other:
        lines.append(
            f"  independent validation set: {other['rows']} rows, sha256 {other['sha256'][:16]}, "
            f"registered by {other['registered_by']}"
        )
        for metric, value in other["candidate"].items():
            theirs = (other.get("champion") or {}).get(metric)
            vs = f"   champion: {theirs:.4f}   diff {value - theirs:+.4f}" if theirs is not None else ""
            lines.append(f"  {metric:<10} candidate: {value:.4f}{vs}")
    lines += [f"  {reason}" for reason in v["reasons"]]
    t = result.get("timings") or {}
    if t:
        lines.append(
            "  platform gate time: "
            + ", ".join(f"{k} {t[k]:.2f}s" for k in ("lineage", "load", "scoring", "registry") if k in t)
        )
    return lines
