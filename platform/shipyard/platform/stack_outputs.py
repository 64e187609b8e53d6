"""Read the infra program's stack outputs (`pulumi stack output --json`) back into Shipyard's types.

The Pulumi program in ``infra/`` exports ``endpoints`` (the fields of :class:`Endpoints`, snake_case)
and ``dvcRemotes`` (team -> remote root). This module turns that JSON into an ``Endpoints`` for a
team's jobs, and into a copy of the platform spec with the service URLs filled in (template, portal).
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import fields
from typing import Any

from shipyard.errors import UserError
from shipyard.input_files import parse_json, read_text
from shipyard.platform.endpoints import Endpoints
from shipyard.spec.fields import NAME_PATTERN, URL, Environment
from shipyard.spec.model import PlatformSpec

SECRET_PLACEHOLDER = "[secret]"  # what `pulumi stack output --json` prints without --show-secrets
FIELDS = {f.name for f in fields(Endpoints)}
# endpoints clients open (and the portal links to): http(s) only, never javascript:, file: or a path
URL_FIELDS = (
    "mlflow", "dvc_endpoint_url", "label_studio", "prometheus", "pushgateway", "grafana", "portal",
    "package_index", "registry",
)  # fmt: skip
PLATFORMS = tuple(e.value for e in Environment)
NAME = re.compile(NAME_PATTERN)


OUTPUTS_FIX = "pass the output of `pulumi stack output --json` (run in infra/)"


def read_outputs(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Stack outputs from a file (``-``: stdin) through the one input reader, checked for shape."""
    source = "stdin" if str(path) == "-" else str(path)
    text = read_text(path, "save it with `pulumi stack output --json > outputs.json`")
    return parse_outputs(text, source)


def parse_outputs(text: str, source: str = "stack outputs") -> dict[str, Any]:
    data = parse_json(text, source, OUTPUTS_FIX)
    if not isinstance(data, dict) or not isinstance(data.get("endpoints"), dict):
        raise UserError(
            f"{source}: no 'endpoints' object in the stack outputs",
            "run `pulumi up` in infra/ first, then `pulumi stack output --json`",
        )
    for key, value in data["endpoints"].items():
        if value is not None and not isinstance(value, str):
            raise UserError(f"{source}: endpoints.{key} is a {type(value).__name__}, not text", OUTPUTS_FIX)
    remotes = data.get("dvcRemotes")
    if remotes is not None and not (
        isinstance(remotes, dict) and all(isinstance(v, str) for v in remotes.values())
    ):
        raise UserError(f"{source}: dvcRemotes must map each team to a remote URL (text)", OUTPUTS_FIX)
    return data


def env_lines(env: dict[str, str]) -> list[str]:
    """``KEY=value`` lines a shell can source: values quoted; control characters refused (a newline
    in a value would add a variable of its own to the job's environment)."""
    lines = []
    for key, value in sorted(env.items()):
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise UserError(
                f"stack outputs: the value of {key} contains a control character ({value[:40]!r})",
                "fix that output in the infra program and run `pulumi up` again",
            )
        lines.append(f"{key}={shlex.quote(value)}")
    return lines


def endpoints_from_outputs(outputs: dict[str, Any], team: str | None = None) -> Endpoints:
    """The platform's endpoints; with ``team``, its DVC remote root (one bucket per team, or shared)."""
    raw = outputs["endpoints"]
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise UserError(
            f"stack outputs: unknown endpoint field(s) {', '.join(unknown)}",
            "upgrade shipyard to the version of the infra program that produced these outputs",
        )
    values = {k: (None if v == SECRET_PLACEHOLDER else v) for k, v in raw.items()}
    if "platform" not in values:
        raise UserError("stack outputs: endpoints.platform is missing", "re-run `pulumi up` in infra/")
    if values["platform"] not in PLATFORMS:
        raise UserError(
            f"stack outputs: endpoints.platform {values['platform']!r} is not one of {', '.join(PLATFORMS)}",
            "pass the outputs of Shipyard's infra program (`pulumi stack output --json` in infra/)",
        )
    for key in URL_FIELDS:
        _check_url(key, values.get(key))
    remotes: dict[str, str] = outputs.get("dvcRemotes") or {}
    if team is not None:
        check_name(team, "--team")
        if team not in remotes:
            known = ", ".join(sorted(remotes)) or "none"
            raise UserError(
                f"team {team!r} has no DVC remote in the stack outputs (teams: {known})",
                "add the team to the platform spec's teams and run `pulumi up`, or pick a listed team",
            )
        values["dvc_remote_root"] = remotes[team]
    return Endpoints(**values)


def check_name(value: str, flag: str) -> str:
    """A team or project name from the command line: a DNS label, never a path (``../x``)."""
    if not NAME.match(value):
        raise UserError(
            f"{flag} {value!r} is not a team or project name",
            "use lowercase letters, digits and '-' (as in the platform spec), e.g. --team demo",
        )
    return value


def _check_url(key: str, value: str | None) -> None:
    if value is None:
        return
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise UserError(
            f"stack outputs: endpoints.{key} contains a control character ({value[:40]!r})",
            "fix that output in the infra program and run `pulumi up` again",
        )
    if not URL.match(value):
        raise UserError(
            f"stack outputs: endpoints.{key} {value[:80]!r} is not an http(s) URL",
            "fix that output in the infra program (http:// or https://) and run `pulumi up` again",
        )


def spec_with_outputs(spec: PlatformSpec, outputs: dict[str, Any]) -> PlatformSpec:
    """``spec`` with the deployed service URLs filled in where the spec left them empty."""
    e = endpoints_from_outputs(outputs)
    s = spec.services

    def fill(model: Any, **urls: str | None) -> Any:
        update = {k: v for k, v in urls.items() if v and getattr(model, k) is None}
        return model.model_copy(update=update)

    services = s.model_copy(
        update={
            "mlflow": fill(s.mlflow, url=e.mlflow),
            "label_studio": fill(s.label_studio, url=e.label_studio),
            "prometheus": fill(s.prometheus, url=e.prometheus, pushgateway_url=e.pushgateway),
            "grafana": fill(s.grafana, url=e.grafana),
            "portal": fill(s.portal, url=e.portal),
            "dvc": s.dvc.model_copy(update={"endpoint_url": s.dvc.endpoint_url or e.dvc_endpoint_url}),
        }
    )
    # unset fields stay unset: cross-field rules that apply only to what a spec says (governance.people) keep
    # applying only then
    return PlatformSpec.model_validate(
        spec.model_copy(update={"services": services}).model_dump(exclude_unset=True)
    )
