"""Baking the project template for a platform: answers checked against the spec, endpoints filled in.

Plain ``cookiecutter project-template/`` works without any of this; ``shipyard new`` adds what only the
platform knows (its endpoints, metric gates, GPU node pool) and writes ``.cruft.json`` so that
``cruft update`` can bring later template changes to the project.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.errors import UserError
from shipyard.package_index import client_pin
from shipyard.platform.endpoints import Endpoints
from shipyard.platform.env import ENV_TEMPLATE
from shipyard.spec.model import PlatformSpec

TEMPLATE_DIRECTORY = "project-template"
# Paths `cruft update` leaves alone: the data scientist's own data and labels.
CRUFT_SKIP = ["data/raw", "data/labels", "dvc.lock"]
# What becomes a path, an MLflow name and a K8s name (the template's pre_gen hook checks the same).
SLUG = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")
PACKAGE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
# Free text is data, never code: cruft re-renders every answer as Jinja on each update, so template
# syntax is refused outright rather than escaped. One line, bounded (a name becomes titles and paths).
TEXT_LIMITS = {"project_name": 200, "description": 500, "owner_email": 254, "team": 40}
JINJA_OPENERS = ("{{", "{%", "{#")


@dataclass(frozen=True)
class Baked:
    path: Path
    context: dict[str, Any]  # the full cookiecutter context (answers and platform values)


def template_dir(explicit: str | os.PathLike | None = None) -> Path:
    """``--template``, else ``$SHIPYARD_TEMPLATE``, else the template next to this source tree."""
    chosen = explicit or os.environ.get(ENV_TEMPLATE)
    path = Path(chosen) if chosen else Path(__file__).resolve().parents[3] / TEMPLATE_DIRECTORY
    if not (path / "cookiecutter.json").is_file():
        raise UserError(
            f"no project template at {path} (cookiecutter.json missing)",
            f"pass --template PATH or set {ENV_TEMPLATE} to the project-template directory",
        )
    return path


def gates_for(spec: PlatformSpec, task: str) -> str:
    """The spec's metric gates the task measures, as the template's ``_gates`` string
    (``metric:min:x[:max:y],...``); empty means the template's defaults for the task."""
    parts = []
    for gate in spec.governance.gates_for(task):
        bounds = [
            f"{key}:{value}" for key, value in (("min", gate.min), ("max", gate.max)) if value is not None
        ]
        if bounds:
            parts.append(":".join([gate.metric, *bounds]))
    return ",".join(parts)


def require_gate(spec: PlatformSpec, task: str) -> None:
    """A project's task must be one the platform's gate can judge: else nothing it trains could ever
    be registered."""
    if not spec.governance.gates_for(task):
        from shipyard.metrics import TASK_METRICS

        raise UserError(
            f"task {task!r}: the platform spec has no gate for it (governance.gates: "
            f"{', '.join(g.metric for g in spec.governance.gates) or 'none'})",
            f"a platform admin adds a gate on one of {', '.join(sorted(TASK_METRICS[task]))} (e.g. "
            f"{{metric: {'r2' if task == 'regression' else 'accuracy'}, min: ...}}), or pick another --task",
        )


def governance_context(spec: PlatformSpec, task: str, risk_tier: str) -> dict[str, str]:
    """The platform-owned values of a project (``governance:`` in its shipyard.yaml): the spec's gates
    for the task, the champion tolerance and the tier's drift limit. Generation and every fleet
    update fill them from the current spec."""
    tier = spec.governance.risk_tiers.get(risk_tier)
    return {
        "_gates": gates_for(spec, task),
        "_champion_tolerance": str(spec.governance.champion_tolerance),
        "_max_drift_share": str(tier.max_drift_share if tier else 0.3),
    }


def ci_runner_context(spec: PlatformSpec, team: str) -> dict[str, str]:
    """Which runners the project's CI selects: the platform's in-cluster runners of the team (spec
    ``ci.runners``: the GitHub scale set's name, or the GitLab runner's tag), else hosted ones ("")."""
    runners = spec.ci.runners
    if runners.provider == "none":
        return {"_ci_runners": "", "_ci_runner_label": ""}
    return {"_ci_runners": runners.provider, "_ci_runner_label": runners.label(team) or ""}


def platform_context(
    spec: PlatformSpec, endpoints: Endpoints, team: str, slug: str, task: str, risk_tier: str = "low"
) -> dict:
    """The template's private (not prompted) values for a project of ``team`` on this platform."""
    gpu_pools = [p for p in spec.gpu_pools if not p.teams or team in p.teams]
    context = {
        "_platform": endpoints.platform,
        "_mlflow_tracking_uri": endpoints.mlflow or "",
        "_dvc_remote": endpoints.dvc_remote(team, slug) or "",
        "_dvc_endpoint_url": endpoints.dvc_endpoint_url or "",
        "_pushgateway_url": endpoints.pushgateway or "",
        "_grafana_url": endpoints.grafana or "",
        "_label_studio_url": endpoints.label_studio or "",
        "_portal_url": endpoints.portal or "",
        **governance_context(spec, task, risk_tier),
        "_instance_type": spec.local.instance_type if endpoints.platform == "local" else "unknown",
        "_package_index_url": endpoints.package_index or "",
        **ci_runner_context(spec, team),
        **client_pin(endpoints.package_index),
    }
    if spec.services.template.image_registry:
        context["_image_registry"] = spec.services.template.image_registry
    if gpu_pools:
        pool = gpu_pools[0]
        context.update(
            _gpu_node_pool=pool.name, _gpu_type=pool.gpu_type or "", _gpu_instance_type=pool.instance_types[0]
        )
    return context


def check_answers(spec: PlatformSpec, answers: dict[str, Any]) -> None:
    """What only the platform can judge: the team exists, the tier is governed, GPUs are there."""
    from shipyard.projects import governed_tier, known_team

    team = answers["team"]
    team_spec = known_team(spec, team)
    governed_tier(spec, answers["risk_tier"])
    require_gate(spec, answers["task"])
    if answers["gpu_training"] == "yes":
        pools = [p.name for p in spec.gpu_pools if not p.teams or team in p.teams]
        if not pools:
            raise UserError(
                f"platform {spec.platform.name} has no GPU node pool that team {team!r} may use",
                "answer gpu_training=no, or add a GPU node pool (gpus_per_node > 0) to the spec",
            )
        if team_spec.quota.gpus < 1:
            raise UserError(
                f"team {team!r} has a GPU quota of 0",
                f"raise teams[{team}].quota.gpus in the platform spec, or answer gpu_training=no",
            )


def bake(
    template: Path,
    output_dir: Path,
    answers: dict[str, Any],
    no_input: bool,
    spec: PlatformSpec | None = None,
    endpoints_for: Callable[[str], Endpoints] | None = None,
    adjust: Callable[[dict[str, Any]], None] | None = None,
) -> Baked:
    """Prompt (unless ``no_input``) for what ``answers`` leaves open, check the answers against ``spec``
    (``adjust(values)`` may correct or refuse them), fill in the endpoints of the answered team
    (``endpoints_for(team)``), then generate the project."""
    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config

    if output_dir.exists() and not output_dir.is_dir():
        raise UserError(f"output directory {output_dir} is a file", "pass --output-dir a directory")
    check_answer_text(answers)
    check_choices(template, answers)
    with _template_on_path(template):  # the template's local Jinja extension (cookiecutter.json)
        context = generate_context(context_file=str(template / "cookiecutter.json"), extra_context=answers)
        try:
            values = prompt_for_config(context, no_input)
        except CookiecutterException as exc:
            raise UserError(f"template answers: {exc}", "check the values passed to shipyard new") from None
        check_answer_text(values)  # typed answers too: they would be rendered by every later update
        check_names(values, template)
        if adjust is not None:
            adjust(values)
        return _generate(template, output_dir, context, values, spec, endpoints_for)


def _generate(
    template: Path,
    output_dir: Path,
    context: dict,
    values: dict[str, Any],
    spec: PlatformSpec | None,
    endpoints_for: Callable[[str], Endpoints] | None,
) -> Baked:
    from cookiecutter.exceptions import FailedHookException, OutputDirExistsException
    from cookiecutter.generate import generate_files

    if spec is not None:
        check_answers(spec, values)
        endpoints = endpoints_for(values["team"]) if endpoints_for else Endpoints(platform="local")
        team, slug, task, tier = (values[k] for k in ("team", "project_slug", "task", "risk_tier"))
        values.update(platform_context(spec, endpoints, team, slug, task, tier))
    values["_template"] = str(template)
    values["_output_dir"] = str(output_dir)
    values["_shipyard_new"] = "yes"  # the hook leaves the "Next:" lines to `shipyard new`
    context["cookiecutter"] = values
    exists = UserError(
        f"{output_dir / values['project_slug']} already exists",
        "pick another --output-dir or project name, or remove the directory",
    )
    if (output_dir / values["project_slug"]).exists():
        raise exists
    created = [p for p in [output_dir, *output_dir.parents] if not p.exists()]
    output_dir.mkdir(parents=True, exist_ok=True)
    try:
        path = Path(generate_files(repo_dir=str(template), context=context, output_dir=str(output_dir)))
    except FailedHookException:
        for path in created:  # leave nothing behind, not even the --output-dir this run made
            if path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        # the hook printed what is wrong, field by field, just above
        raise UserError(
            "the template rejected these answers; nothing was generated", "fix the values named above"
        ) from None
    except OutputDirExistsException:
        raise exists from None
    return Baked(path, values)


def check_answer_text(answers: dict[str, Any]) -> None:
    """Free-text answers are one bounded line without template syntax (refused, never rendered)."""
    for field, limit in TEXT_LIMITS.items():
        value = answers.get(field)
        if not isinstance(value, str):
            continue
        if any(opener in value for opener in JINJA_OPENERS):
            raise UserError(
                f"{field} contains template syntax ({' '.join(JINJA_OPENERS)}): answers are data, never code",
                f"write {field} without those character pairs",
            )
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise UserError(
                f"{field} contains a control character or line break", f"give {field} on one line"
            )
        if len(value) > limit:
            raise UserError(f"{field} is {len(value)} characters long (at most {limit})", f"shorten {field}")
    for field in ("project_slug", "package_name", "python_version"):
        value = answers.get(field)
        if isinstance(value, str) and any(opener in value for opener in JINJA_OPENERS):
            raise UserError(f"{field} contains template syntax", f"give {field} as plain text")


def check_choices(template: Path, answers: dict[str, Any]) -> None:
    """Menu answers must be one of the template's choices (cookiecutter would raise a bare ValueError)."""
    defaults = json.loads((template / "cookiecutter.json").read_text())
    for field, choices in defaults.items():
        if isinstance(choices, list) and field in answers and answers[field] not in choices:
            raise UserError(
                f"{field} {answers[field]!r} is not one of {', '.join(map(str, choices))}",
                f"answer one of: {', '.join(map(str, choices))}",
            )


def precheck(
    template: Path,
    answers: dict[str, Any],
    no_input: bool,
    spec: PlatformSpec | None,
    output_dir: Path | None = None,
) -> None:
    """What the given answers allow to judge before anything is touched (the platform's template
    repository included): text, choices, the names derived from them, the owner and the team. Answers
    still to be prompted for are judged by :func:`bake`."""
    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config

    from shipyard.spec.fields import EMAIL

    check_answer_text(answers)
    check_choices(template, answers)
    owner = answers.get("owner_email")
    if isinstance(owner, str) and not EMAIL.match(owner):
        raise UserError(f"owner_email {owner!r} is not an email address", "e.g. --owner you@example.com")
    with _template_on_path(template):
        context = generate_context(context_file=str(template / "cookiecutter.json"), extra_context=answers)
        try:
            values = prompt_for_config(context, no_input=True)  # defaults for what is still open
        except CookiecutterException as exc:
            raise UserError(f"template answers: {exc}", "check the values passed to shipyard new") from None
    if no_input or {"project_name", "project_slug", "package_name"} & answers.keys():
        check_names(values, template)
        if output_dir is not None and (output_dir / values["project_slug"]).exists():
            raise UserError(
                f"{output_dir / values['project_slug']} already exists",
                "pick another --output-dir or project name, or remove the directory",
            )
    if spec is not None and (no_input or "team" in answers):
        check_answers(spec, values)


def shadowed_module(template: Path, package: str) -> str:
    """What a package named ``package`` would hide in a project of ``template`` ('' for nothing): the
    template's own answer (its local_extensions.py, which its pre_gen hook uses), else the stdlib's."""
    import importlib.util

    source = template / "local_extensions.py"
    module_spec = importlib.util.spec_from_file_location(f"_shipyard_template_{abs(hash(source))}", source)
    if source.is_file() and module_spec and module_spec.loader:
        module = importlib.util.module_from_spec(module_spec)
        module_spec.loader.exec_module(module)
        if hasattr(module, "shadowed_module"):
            return module.shadowed_module(package)
    return f"the standard library's module {package!r}" if package in sys.stdlib_module_names else ""


def check_names(values: dict[str, Any], template: Path | None = None) -> None:
    """The slug and package name become directories: checked before anything is written."""
    slug, package = values["project_slug"], values["package_name"]
    name = values.get("project_name")
    if isinstance(name, str) and not any(ch.isalnum() for ch in name):
        raise UserError(
            f"project_name {name!r} has no letter or digit (every such name would become the slug 'model')",
            "give the project a name with letters or digits, e.g. shipyard new 'Credit Risk'",
        )
    if not SLUG.match(slug) or "--" in slug:
        example = _slugify(values.get("project_name", "")) or "credit-risk"
        raise UserError(
            f"project_slug {slug!r} is not a valid slug",
            "use 2-40 lowercase letters, digits and single '-', starting with a letter "
            f"(e.g. --slug {example}), or leave --slug out to derive it from the name",
        )
    if not PACKAGE.match(package):
        raise UserError(
            f"package_name {package!r} is not a valid Python package name",
            "use lowercase letters, digits and '_', starting with a letter (package_name=credit_risk)",
        )
    hidden = shadowed_module(template, package) if template is not None else ""
    if hidden:
        raise UserError(
            f"project {slug!r} would have the package src/{package}, which hides {hidden}",
            f"give another name or slug, e.g. --slug {slug}-model",
        )


def _slugify(name: str) -> str:
    from slugify import slugify

    slug = slugify(name, max_length=40, word_boundary=True)
    return slug if SLUG.match(slug) else ""


class _template_on_path:
    """cookiecutter (and cruft) import the template's ``local_extensions`` from ``sys.path``."""

    def __init__(self, template: Path) -> None:
        self.entry = str(template)

    def __enter__(self) -> None:
        sys.path.insert(0, self.entry)

    def __exit__(self, *exc: object) -> None:
        if self.entry in sys.path:
            sys.path.remove(self.entry)


def write_cruft_file(
    baked: Baked, template: Path, release_url: str | None = None, commit: str | None = None
) -> Path:
    """``.cruft.json`` as ``cruft create`` writes it, so ``cruft check``/``cruft update`` work: the
    published template repository and release commit when given, else ``template``'s git checkout."""
    if release_url is not None:
        source, directory = release_url, None
    else:
        repo = _git_toplevel(template)
        if repo is None:
            source, directory, commit = str(template), None, None
        else:
            source, directory = str(repo), str(template.resolve().relative_to(repo)) or None
            commit = _git(["rev-parse", "HEAD"], repo)
    context = {k: v for k, v in baked.context.items() if k != "_output_dir"}
    context["_template"] = source
    if commit:
        context["_commit"] = commit
    content = {
        "template": source,
        "commit": commit,
        "checkout": None,
        "context": {"cookiecutter": context},
        "directory": directory,
        "skip": CRUFT_SKIP,
    }
    path = baked.path / ".cruft.json"
    path.write_text(json.dumps(content, indent=2) + "\n")
    return path


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def _git_toplevel(path: Path) -> Path | None:
    top = _git(["rev-parse", "--show-toplevel"], path)
    return Path(top).resolve() if top else None
