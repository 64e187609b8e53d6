"""Load ``platform.yaml`` into a :class:`PlatformSpec`, with errors that point at the file and line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from shipyard.errors import SpecError, SpecProblem
from shipyard.input_files import (
    InputError,
    NodeBudget,
    compose_yaml,
    construct_scalar,
    mapping_key,
    read_text,
)
from shipyard.platform.env import ENV_SPEC
from shipyard.spec.cluster import cluster_problems
from shipyard.spec.fields import Environment
from shipyard.spec.model import PlatformSpec, SpecReferenceError

DEFAULT_SPEC = "platform.yaml"
CLUSTER = "cluster"  # target: whichever cluster environment the spec names
LOCAL_FIX = "point shipyard:spec at a cluster spec (examples/platform.aws.yaml) or run `shipyard up` locally"

PathKey = tuple[str | int, ...]


def load_spec(path: str | os.PathLike[str], target: str | None = None) -> PlatformSpec:
    """Load and check a spec; with ``target`` ('aws', 'kubernetes' or 'cluster': the spec's own
    environment) also the rules a cluster adds (spec/cluster.py), as `pulumi up` applies them. Which
    file a command uses is the resolver's to say (shipyard.platform.resolver.spec_path_for)."""
    file = Path(path)
    text = read_text(
        file,
        f"pass a path (shipyard spec validate PATH), set ${ENV_SPEC}, or copy examples/platform.aws.yaml",
        kind="spec file",
    )
    return parse_spec(text, str(file), target)


def parse_spec(text: str, file: str = "<spec>", target: str | None = None) -> PlatformSpec:
    data, lines = _load_yaml(text, file)
    try:
        spec = PlatformSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(file, [_problem(err, lines) for err in exc.errors()]) from None
    if target is not None:
        env = spec.platform.environment if target == CLUSTER else Environment(target)
        problems = cluster_problems(spec, env)
        if problems:
            raise SpecError(
                file,
                [SpecProblem(_dotted(path), _line_for(path, lines), msg) for path, msg in problems],
                LOCAL_FIX
                if env == Environment.local
                else f"correct the field: the {env.value} target needs it (docs/platform-engineer.md)",
            )
    return spec


# --- YAML with line numbers ---------------------------------------------------------------------


def _load_yaml(text: str, file: str) -> tuple[dict[str, Any], dict[PathKey, int]]:
    try:
        node = compose_yaml(text, file)
    except InputError as exc:
        raise SpecError(file, [SpecProblem("", exc.line, exc.problem)], exc.fix) from None
    if node is None:
        raise SpecError(
            file,
            [SpecProblem("", None, "the file is empty")],
            "start from platform.yaml or examples/platform.aws.yaml",
        )
    if not isinstance(node, yaml.MappingNode):
        raise SpecError(
            file,
            [
                SpecProblem(
                    "", node.start_mark.line + 1, "the spec must be a mapping (platform:, teams:, ...)"
                )
            ],
        )
    lines: dict[PathKey, int] = {}
    try:
        data = _construct(node, (), lines, file, NodeBudget(file))
    except InputError as exc:
        raise SpecError(file, [SpecProblem("", exc.line, exc.problem)], exc.fix) from None
    return data, lines


def _construct(
    node: yaml.Node, path: PathKey, lines: dict[PathKey, int], file: str, budget: NodeBudget
) -> Any:
    budget.spend(node, len(path))
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = mapping_key(key_node, file)
            if key in result:
                raise SpecError(
                    file,
                    [SpecProblem(_dotted(path + (key,)), key_node.start_mark.line + 1, "key given twice")],
                    "keep one of the two",
                )
            result[key] = _construct(value_node, path + (key,), lines, file, budget)
            lines[path + (key,)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, path + (i,), lines, file, budget) for i, item in enumerate(node.value)]
    return construct_scalar(node, file)


def _dotted(path: PathKey) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_for(path: PathKey, lines: dict[PathKey, int]) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _problem(err: dict[str, Any], lines: dict[PathKey, int]) -> SpecProblem:
    loc: PathKey = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, SpecReferenceError):
        loc = loc + cause.path
        return SpecProblem(_dotted(loc), _line_for(loc, lines), str(cause))
    return SpecProblem(_dotted(loc), _line_for(loc, lines), _explain(err))


def _explain(err: dict[str, Any]) -> str:
    kind, given = err["type"], err.get("input")
    if kind == "extra_forbidden":
        return "unknown key: remove it or check its spelling (see `shipyard spec show` for the fields)"
    if kind == "missing":
        return "required field is missing"
    if kind in {"float_parsing", "float_type", "int_parsing", "int_type", "int_from_float"}:
        wanted = "a whole number" if kind.startswith("int") else "a number"
        return f"expected {wanted}, got {given!r}"
    if kind == "enum" or kind == "literal_error":
        return f"expected {err['ctx'].get('expected')}, got {given!r}"
    if kind == "value_error":
        return str(err["ctx"]["error"])
    if kind in {"greater_than", "greater_than_equal"}:
        bound = err["ctx"].get("gt", err["ctx"].get("ge"))
        op = ">" if kind == "greater_than" else ">="
        return f"must be {op} {bound}, got {given!r}"
    if kind == "string_pattern_mismatch":
        return f"{given!r} does not match {err['ctx']['pattern']}"
    return f"{err['msg']} (got {given!r})"
