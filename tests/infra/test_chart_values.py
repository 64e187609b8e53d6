"""Every Helm release's values, checked against that chart version's own contract (no Helm binary and
no chart repository can be reached here: the charts' values.schema.json / values.yaml are vendored
under tests/infra/charts/, see charts.json for chart, version and source).

A chart with a schema: the values must validate against it (as `helm install` would). A chart without
one: every value we set must name a key the chart's values.yaml has (free-form maps such as
``podLabels: {}`` take any key) or its templates read, with the type of its default, since Helm
silently ignores the rest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

CHARTS = Path(__file__).resolve().parent / "charts"
MANIFEST = json.loads((CHARTS / "charts.json").read_text())["charts"]
BY_PIN = {(c["chart"], c["version"]): c for c in MANIFEST}


def _contract(chart: str, version: str) -> dict[str, Any]:
    entry = BY_PIN.get((chart, version))
    assert entry, f"chart {chart} {version} is not vendored under tests/infra/charts (see charts.json)"
    text = (CHARTS / entry["file"]).read_text()
    return entry | {"data": json.loads(text) if entry["kind"] == "schema" else yaml.safe_load(text)}


_GRAPHS = {"aws": "aws_graph", "kubernetes": "k8s_graph", "variant": "variant_graph"}


def _type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def unknown_values(
    values: Any,
    defaults: Any,
    refs: frozenset[str] = frozenset(),
    path: str = "",
    alternatives: dict[str, str] | None = None,
) -> list[str]:
    """Values neither the chart's values.yaml nor its templates know (or typed unlike the default).
    ``alternatives``: a second type values.yaml documents for a key (charts.json, with the reason)."""
    if defaults is None or defaults == {}:  # free-form (podLabels: {}, resources: {}, ...) or untyped
        return []
    if alternatives and alternatives.get(path) == _type(values):
        return []
    if isinstance(defaults, dict):
        if not isinstance(values, dict):
            return [f"{path}: the chart expects a map, got {_type(values)}"]
        problems = []
        for key, value in values.items():
            full = f"{path}.{key}".lstrip(".")
            if key in defaults:
                problems += unknown_values(value, defaults[key], refs, full, alternatives)
            elif not _templates_read(full, refs):
                problems.append(f"{full}: not a value of this chart")
        return problems
    if values is not None and _type(values) != _type(defaults):
        return [f"{path}: the chart's default is a {_type(defaults)}, got {_type(values)} {values!r}"]
    return []


def _templates_read(path: str, refs: frozenset[str]) -> bool:
    """A key only documented in comments (``# podLabels: {}``) still counts if a template reads it,
    itself, a part of it, or the map holding it as a whole (``toYaml .Values.x``)."""
    return any(path == r or r.startswith(path + ".") or path.startswith(r + ".") for r in refs)


def _refs(entry: dict[str, Any]) -> frozenset[str]:
    """The `.Values.…` paths the chart's templates read (*.template-values.txt, from the same commit)."""
    file = CHARTS / entry["file"].replace(".values.yaml", ".template-values.txt")
    return frozenset(file.read_text().split()) if file.exists() else frozenset()


def chart_problems(chart: str, version: str, values: dict[str, Any]) -> list[str]:
    contract = _contract(chart, version)
    if contract["kind"] == "schema":
        validator = jsonschema.Draft7Validator(contract["data"])
        return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(values)]
    defaults = dict(contract["data"])
    problems = []
    for key, sub in contract.get("subcharts", {}).items():  # a subchart's values sit under its name
        sub_chart, _, sub_version = sub.rpartition("-")
        sub_contract = _contract(sub_chart, sub_version)
        sub_defaults = {**sub_contract["data"], **(defaults.pop(key, None) or {})}
        found = unknown_values(values.get(key, {}), sub_defaults, _refs(sub_contract))
        problems += [f"{key}.{p}" for p in found]
    rest = {k: v for k, v in values.items() if k not in contract.get("subcharts", {})}
    return problems + unknown_values(
        rest, defaults, _refs(contract), alternatives=contract.get("alternatives")
    )


def releases(graph) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(resource, chart, version, values); an OCI reference ``oci://host/path/CHART`` names CHART."""
    return [
        (r.name, r.plain["chart"].rsplit("/", 1)[-1], r.plain["version"], r.plain.get("values") or {})
        for r in graph.of("kubernetes:helm.sh/v3:Release")
    ]


@pytest.mark.parametrize("stack", ["aws", "kubernetes", "variant", "github_runners", "gitlab_runners"])
def test_every_release_matches_its_chart(stack, request):
    graph = request.getfixturevalue(f"{stack}_graph" if "runners" in stack else _GRAPHS[stack])
    found = releases(graph)
    assert found, "no Helm release in the graph"
    problems = [f"{name} ({chart} {version}): {p}" for name, chart, version, values in found
                for p in chart_problems(chart, version, values)]  # fmt: skip
    assert not problems, "\n".join(problems)


def test_every_pinned_chart_is_vendored_with_its_source():
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "infra"))
    from components import common

    pins = [v for v in vars(common).values() if isinstance(v, common.ChartPin)]
    assert pins
    for pin in pins:
        entry = BY_PIN.get((pin.chart, pin.version))
        assert entry, f"{pin.chart} {pin.version}: vendor its values under tests/infra/charts"
        assert entry["helm_repo"].rstrip("/") == pin.repo.rstrip("/")
    for entry in MANIFEST:
        assert (CHARTS / entry["file"]).is_file()
        assert entry["source"].startswith("https://github.com/") and len(entry["commit"]) == 40


def test_the_checks_see_a_wrong_type_and_an_unknown_key():
    """The checker itself: the defects it exists for (Label Studio's integer urlExpirationSecs, a
    values key the chart does not have) are reported."""
    s3 = {"bucket": "b", "urlExpirationSecs": 3600}
    problems = chart_problems("label-studio", "2.0.5", {"global": {"persistence": {"config": {"s3": s3}}}})
    assert any("urlExpirationSecs" in p and "string" in p for p in problems)
    assert chart_problems("nvidia-device-plugin", "0.17.1", {"podLabels": {"a": "b"}}) == [
        "podLabels: not a value of this chart"
    ]
    assert chart_problems("kube-prometheus-stack", "75.15.1", {"grafana": {"adminn": {}}}) == [
        "grafana.adminn: not a value of this chart"
    ]
    assert chart_problems("dcgm-exporter", "4.1.1", {"podLabels": {"x": "y"}}) == []
    assert chart_problems("kube-prometheus-stack", "75.15.1", {"grafana": {"podLabels": {"x": "y"}}}) == []
    # a documented second type is accepted where documented, and nowhere else
    assert chart_problems("gha-runner-scale-set", "0.14.2", {"githubConfigSecret": "arc-github"}) == []
    assert chart_problems("gha-runner-scale-set", "0.14.2", {"githubConfigUrl": {"x": 1}}) == [
        "githubConfigUrl: the chart's default is a str, got dict {'x': 1}"
    ]
    assert chart_problems("gitlab-runner", "0.92.0", {"gitlabURL": "https://gitlab.example"}) == [
        "gitlabURL: not a value of this chart"
    ]
