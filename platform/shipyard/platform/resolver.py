"""The one platform resolver: spec + data dir (+ stack outputs, + explicit overrides) -> :class:`Platform`.

Every CLI command, the portal, the registry service, the embedded CI runner and the git hook start
here, so they agree on where each service is. Endpoints come, in order of precedence, from:
1. explicit overrides (``--mlflow``, ``--prometheus``, ``--tracking-uri``);
2. the job variables in the environment (``MLFLOW_TRACKING_URI``, ``SHIPYARD_PROMETHEUS_URL``, ...:
   the contract in :mod:`shipyard.platform.env`);
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
from typing import Any

from shipyard import service_calls
from shipyard.errors import UserError
from shipyard.platform.endpoints import (
    Endpoints,
    cluster_endpoints,
    default_data_dir,
    local_endpoints,
    named_data_dir,
)
from shipyard.platform.env import ENV_HOME, ENV_SPEC
from shipyard.platform.layout import DataLayout
from shipyard.platform.state import State, read_state
from shipyard.spec import PlatformSpec, load_spec
from shipyard.spec.fields import Environment
from shipyard.spec.loader import DEFAULT_SPEC


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
    state = read_state(DataLayout(home))
    if spec is None and state.spec_path and Path(state.spec_path).is_file():
        path = Path(state.spec_path)
        spec = load_spec(path)
    endpoints = _base_endpoints(spec, home, state.endpoints)
    if stack_outputs is not None:
        from shipyard.platform.stack_outputs import endpoints_from_outputs, read_outputs

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
    state = started_state(DataLayout(home))
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
    explicit = spec_file or env.get(ENV_SPEC)
    if explicit:
        return Path(explicit)
    home = named_data_dir(data_dir, env)
    if home is not None:
        recorded = read_state(DataLayout(home)).spec_path
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
    home = named_data_dir(data_dir, environ)
    if home is None:
        return Path(DEFAULT_SPEC)
    fix = f"pass the spec: --spec PATH (or set ${ENV_SPEC})"
    recorded = read_state(DataLayout(home)).spec_path
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


def resolve_spec_path(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """The spec file named (it may not exist): the argument, else ``$SHIPYARD_SPEC``, else
    ``./platform.yaml``."""
    env = os.environ if environ is None else environ
    return Path(path or env.get(ENV_SPEC) or DEFAULT_SPEC)


def locate_data_dir(
    spec_file: str | os.PathLike[str] | None = None, data_dir: str | os.PathLike[str] | None = None
) -> Path:
    """The data dir without requiring a spec (``down``/``status`` work even if the spec moved): the one
    named, else the named spec's ``local.data_dir`` when that file exists, else ``~/.shipyard``."""
    if data_dir or os.environ.get(ENV_HOME):
        return default_data_dir(data_dir)
    file = resolve_spec_path(spec_file)
    spec = load_spec(file) if file.exists() else None
    return default_data_dir(None, spec)


def not_started(root: Path) -> UserError:
    """The one error for a data dir where ``shipyard up`` never ran."""
    return UserError(
        f"no embedded platform has been started in {root}", f"start it: shipyard up --data-dir {root}"
    )


def started_state(layout: DataLayout) -> State:
    """``state.json`` of a platform ``shipyard up`` started in ``layout`` (else :func:`not_started`)."""
    state = read_state(layout)
    if not state.endpoints:
        raise not_started(layout.root)
    return state


def recorded_endpoints(layout: DataLayout) -> Endpoints:
    """The endpoints ``shipyard up`` recorded in ``layout`` (Label Studio token included)."""
    return endpoints_from_state(started_state(layout).endpoints)
