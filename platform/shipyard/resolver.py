"""The one platform resolver: spec + data dir (+ stack outputs, + explicit overrides) -> :class:`Platform`.

Every CLI command, the portal, the embedded CI runner and the git hook start here, so they agree on
where each service is. Endpoints come, in order of precedence, from:
1. explicit overrides (``--mlflow``, ``--prometheus``, ``--tracking-uri``);
2. the job variables in the environment (``MLFLOW_TRACKING_URI``, ``SHIPYARD_PROMETHEUS_URL``, ...:
   the contract in :mod:`shipyard.endpoints`);
3. stack outputs (``pulumi stack output --json``) when given;
4. what ``shipyard up`` recorded in the data dir's ``state.json`` (the embedded platform);
5. what the spec says: derived ports on one machine, the services' URLs on a cluster.

The spec is ``--spec``, else ``$SHIPYARD_SPEC``, else (a data dir named by ``--data-dir`` or
``$SHIPYARD_HOME``) the one the platform there was started with, else ``./platform.yaml``
(:func:`locate_spec`): given its data dir, a command works from any directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard import service_calls
from shipyard.datadir import DataLayout, load_state
from shipyard.endpoints import ENV_MLFLOW, Endpoints, cluster_endpoints, default_data_dir, local_endpoints
from shipyard.errors import UserError
from shipyard.spec import PlatformSpec, load_spec
from shipyard.spec.fields import Environment
from shipyard.spec.loader import DEFAULT_SPEC, SPEC_ENV

if TYPE_CHECKING:  # requests: imported when a command reads MLflow, not by `shipyard status`
    from shipyard.records import MlflowApi

# the portal process's environment (besides the endpoints' own variables)
ENV_SPEC = SPEC_ENV
ENV_HOME = "SHIPYARD_HOME"
ENV_DVC_ROOT = "SHIPYARD_DVC_REMOTE_ROOT"
ENV_GIT_ROOT = "SHIPYARD_GIT_ROOT"
ENV_PREFIX = "SHIPYARD_PORTAL_PREFIX"  # only projects/models whose names start with it
ENV_TTL = "SHIPYARD_PORTAL_TTL"
PORTAL_PORT = 8501  # Streamlit's default: the portal's port in its container (locally local.ports.portal)
PORTAL_HEALTH = "/_stcore/health"  # Streamlit's health endpoint (probes, `up`'s wait, the load balancer)


def portal_command(python: str, home: str, port: int, host: str) -> list[str]:
    """``streamlit run portal/Home.py`` on ``host:port``, headless: the one command ``shipyard up``,
    ``shipyard portal`` and the cluster's Deployment (infra/components/portal.py) all run."""
    return [
        python, "-m", "streamlit", "run", home,
        "--server.port", str(port), "--server.address", host, "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "viewer",  # no "Deploy" or developer menu for the portal's users
    ]  # fmt: skip


@dataclass(frozen=True)
class Platform:
    """One platform as a client sees it: its spec, where its services are (with credentials) and,
    for the embedded platform, its data dir."""

    spec: PlatformSpec | None  # None only where a command may run without a spec (``ci start``)
    spec_path: Path | None
    endpoints: Endpoints
    data_dir: Path

    @property
    def layout(self) -> DataLayout:
        return DataLayout(self.data_dir)

    @property
    def is_local(self) -> bool:
        return self.endpoints.platform == "local"

    @property
    def git_root(self) -> Path | None:
        """The embedded platform's bare repositories (None on a cluster)."""
        return self.layout.git if self.is_local else None

    def mlflow(self, timeout: float | None = None) -> MlflowApi:
        """The paged MLflow client for this platform (raises ServiceUnavailable when there is none)."""
        from shipyard.records import MlflowApi

        return MlflowApi.of(self.endpoints, timeout)

    def with_endpoints(self, **changes: str | None) -> Platform:
        return Platform(self.spec, self.spec_path, self.endpoints.replace(**changes), self.data_dir)


def resolve_platform(
    spec_file: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    stack_outputs: str | os.PathLike[str] | None = None,
    team: str | None = None,
    overrides: Mapping[str, str | None] | None = None,
    require_spec: bool = True,
    environ: Mapping[str, str] | None = None,
) -> Platform:
    """The platform a command works on (see the module docstring for the order of sources).

    ``team``: with stack outputs, that team's DVC remote root. ``require_spec=False``: without a spec
    file, resolve from the data dir's state and the environment alone.
    """
    env = os.environ if environ is None else environ
    path, spec = _find_spec(spec_file, data_dir, env, require_spec)
    home = default_data_dir(data_dir, spec)
    state = load_state(DataLayout(home).state_file, home)
    if spec is None and state.spec_path and Path(state.spec_path).is_file():
        path = Path(state.spec_path)
        spec = load_spec(path)
    endpoints = _base_endpoints(spec, home, state.endpoints)
    if stack_outputs is not None:
        from shipyard.stack_outputs import endpoints_from_outputs, read_outputs

        endpoints = endpoints_from_outputs(read_outputs(stack_outputs), team)  # the one input reader
    from_env = {k: v for k, v in Endpoints.from_env(env).as_dict().items() if v and k != "platform"}
    explicit = {k: v for k, v in (overrides or {}).items() if v}
    endpoints = endpoints.replace(**{**from_env, **explicit})
    service_calls.use_spec(spec)  # the spec's timeout policy bounds every call the command makes
    return Platform(spec=spec, spec_path=path.resolve() if path else None, endpoints=endpoints, data_dir=home)


def platform_from_data_dir(data_dir: str | os.PathLike[str]) -> Platform:
    """The embedded platform as ``shipyard up`` recorded it in ``data_dir`` (the CI runner, the git
    hook): its state's endpoints, its spec when the recorded file still exists."""
    home = Path(data_dir)
    state = load_state(DataLayout(home).state_file, home)
    if not state.endpoints:
        raise UserError(
            f"no embedded platform has been started in {home}", f"start it: shipyard up --data-dir {home}"
        )
    path = Path(state.spec_path) if state.spec_path else None
    spec = load_spec(path) if path and path.is_file() else None
    service_calls.use_spec(spec)
    return Platform(spec=spec, spec_path=path, endpoints=endpoints_from_state(state.endpoints), data_dir=home)


def endpoints_from_state(recorded: Mapping[str, Any]) -> Endpoints:
    """``state.json``'s endpoints (fields a newer or older Shipyard wrote are ignored)."""
    known = {f.name for f in fields(Endpoints)}
    return Endpoints(**{k: v for k, v in recorded.items() if k in known})


def locate_spec(
    spec_file: str | os.PathLike[str] | None,
    data_dir: str | os.PathLike[str] | None,
    environ: Mapping[str, str] | None = None,
) -> Path | None:
    """The spec file a command uses, None where there is none: ``--spec``, else ``$SHIPYARD_SPEC``;
    else, where a data dir is named (``--data-dir``, ``$SHIPYARD_HOME``), the spec the platform there
    was started with (``shipyard up`` records it in ``state.json``), so a command works from any
    directory; else ``./platform.yaml``."""
    env = os.environ if environ is None else environ
    explicit = spec_file or env.get(SPEC_ENV)
    if explicit:
        return Path(explicit)
    home = _named_data_dir(data_dir, env)
    if home is not None:
        recorded = load_state(DataLayout(home).state_file, home).spec_path
        if recorded and Path(recorded).is_file():
            return Path(recorded)
    default = Path(DEFAULT_SPEC)
    return default if default.is_file() else None


def spec_path_for(
    spec_file: str | os.PathLike[str] | None,
    data_dir: str | os.PathLike[str] | None,
    environ: Mapping[str, str] | None = None,
) -> Path:
    """:func:`locate_spec`, where a command needs a spec: a named data dir that gives none is named in
    the error (without one, ``./platform.yaml``'s own "no such spec file" error follows)."""
    found = locate_spec(spec_file, data_dir, environ)
    if found is not None:
        return found
    home = _named_data_dir(data_dir, os.environ if environ is None else environ)
    if home is None:
        return Path(DEFAULT_SPEC)
    fix = f"pass the spec: --spec PATH (or set ${SPEC_ENV})"
    recorded = load_state(DataLayout(home).state_file, home).spec_path
    if recorded:
        raise UserError(
            f"{recorded}: no such spec file (the platform in {home} was started with it), "
            f"and there is no ./{DEFAULT_SPEC} here",
            f"{fix}; `shipyard up --data-dir {home} --spec PATH` records the new one",
        )
    raise UserError(
        f"no platform has been started in {home} (it records no spec), and there is no ./{DEFAULT_SPEC} here",
        f"{fix}, or start one there: shipyard up --data-dir {home} --spec PATH",
    )


def _named_data_dir(data_dir: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path | None:
    named = data_dir or env.get(ENV_HOME)
    return Path(named).expanduser().resolve() if named else None


def _find_spec(
    spec_file: str | os.PathLike[str] | None,
    data_dir: str | os.PathLike[str] | None,
    env: Mapping[str, str],
    require: bool,
) -> tuple[Path | None, PlatformSpec | None]:
    path = spec_path_for(spec_file, data_dir, env) if require else locate_spec(spec_file, data_dir, env)
    return (path, load_spec(path)) if path is not None else (None, None)


def _base_endpoints(spec: PlatformSpec | None, home: Path, recorded: Mapping[str, Any]) -> Endpoints:
    if spec is None or spec.platform.environment == Environment.local:
        if recorded:
            return endpoints_from_state(recorded)  # the started platform's ports and credentials
        if spec is None:
            return Endpoints(platform="local")
        return local_endpoints(spec, home)
    return cluster_endpoints(spec)


# --- the portal process ---------------------------------------------------------------------------


def portal_env(platform: Platform, prefix: str | None = None) -> dict[str, str]:
    """The environment the portal process gets; :func:`portal_platform` reads it back."""
    from shipyard.service_calls import mlflow_client_env

    # the portal's MLflow calls are bounded like the CLI's: a stopped MLflow is named, not waited for
    env = {**mlflow_client_env(), **platform.endpoints.to_env()}
    if platform.spec_path:
        env[ENV_SPEC] = str(platform.spec_path.resolve())
    if platform.endpoints.dvc_remote_root:
        env[ENV_DVC_ROOT] = platform.endpoints.dvc_remote_root
    env[ENV_HOME] = str(platform.data_dir)
    if platform.git_root:
        env[ENV_GIT_ROOT] = str(platform.git_root)
    if prefix:
        env[ENV_PREFIX] = prefix
    return env


@dataclass(frozen=True)
class PortalSettings:
    """What the portal shows: the platform, and which projects (``prefix``) for how long cached."""

    platform: Platform
    git_root: str | None = None
    prefix: str | None = None
    ttl_s: float = 30.0

    @property
    def spec(self) -> PlatformSpec:
        assert self.platform.spec is not None  # portal_platform always loads one
        return self.platform.spec

    @property
    def endpoints(self) -> Endpoints:
        return self.platform.endpoints

    @property
    def dvc_remote_root(self) -> str | None:
        return self.platform.endpoints.dvc_remote_root

    @property
    def spec_path(self) -> Path | None:
        return self.platform.spec_path


def portal_settings(environ: Mapping[str, str] | None = None) -> PortalSettings:
    """The portal's platform from its environment. ``shipyard portal`` and ``up`` pass the whole set of
    endpoints (:func:`portal_env`): those are used as they are. Started by hand (``streamlit run``,
    no ``MLFLOW_TRACKING_URI``), it resolves the spec and data dir like any command."""
    e = os.environ if environ is None else environ
    if not e.get(ENV_MLFLOW):
        platform = resolve_platform(e.get(ENV_SPEC), e.get(ENV_HOME), environ=e)
    else:
        path = spec_path_for(None, e.get(ENV_HOME), e)
        spec = load_spec(path)
        home = default_data_dir(e.get(ENV_HOME), spec)
        endpoints = Endpoints.from_env(e)
        recorded = load_state(DataLayout(home).state_file, home).endpoints
        if endpoints.label_studio and not endpoints.label_studio_token and recorded.get("label_studio_token"):
            endpoints = endpoints.replace(label_studio_token=recorded["label_studio_token"])  # made by `up`
        if recorded.get("mlflow") == endpoints.mlflow and recorded.get("mlflow_artifacts"):
            endpoints = endpoints.replace(mlflow_artifacts=recorded["mlflow_artifacts"])  # storage costs
        platform = Platform(spec=spec, spec_path=path.resolve(), endpoints=endpoints, data_dir=home)
        service_calls.use_spec(spec)  # the portal's calls: the spec's timeout policy too
    if e.get(ENV_DVC_ROOT):
        platform = platform.with_endpoints(dvc_remote_root=e[ENV_DVC_ROOT])
    return PortalSettings(
        platform=platform,
        git_root=e.get(ENV_GIT_ROOT) or None,
        prefix=e.get(ENV_PREFIX) or None,
        ttl_s=float(e.get(ENV_TTL) or 30),
    )


__all__ = [
    "DEFAULT_SPEC",
    "Platform",
    "PortalSettings",
    "endpoints_from_state",
    "locate_spec",
    "platform_from_data_dir",
    "portal_command",
    "portal_env",
    "portal_settings",
    "resolve_platform",
    "spec_path_for",
]
