"""Every Kubernetes object the program creates (its inputs, as captured by the Pulumi mocks: no engine
can run here) validates strictly against the OpenAPI schema of the spec's Kubernetes version.

kubernetes-validate reports only the first error and knows no CRDs, so CRD kinds are listed here
explicitly and checked against a structural schema of their own; any other unknown kind fails.
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
from shipyard.spec import load_spec

REPO = Path(__file__).resolve().parents[2]
VERSIONS = {
    "aws_graph": load_spec(REPO / "examples/platform.aws.yaml").platform.cluster.kubernetes_version,
    "k8s_graph": load_spec(REPO / "examples/platform.kubernetes.yaml").platform.cluster.kubernetes_version,
    # the examples with CI runners (conftest._runners_spec): the runner namespace and egress policies
    "github_runners_graph": load_spec(
        REPO / "examples/platform.aws.yaml"
    ).platform.cluster.kubernetes_version,
    "gitlab_runners_graph": load_spec(
        REPO / "examples/platform.kubernetes.yaml"
    ).platform.cluster.kubernetes_version,
}
_RULE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["expr"],
    "properties": {
        "alert": {"type": "string"},
        "record": {"type": "string"},
        "expr": {"type": "string"},
        "for": {"type": "string", "pattern": r"^[0-9]+(ms|s|m|h|d|w|y)$"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "oneOf": [{"required": ["alert"]}, {"required": ["record"]}],
}
CRD_SCHEMAS = {  # monitoring.coreos.com/v1 PrometheusRule (prometheus-operator), the fields Shipyard uses
    ("monitoring.coreos.com/v1", "PrometheusRule"): {
        "type": "object",
        "additionalProperties": False,
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "apiVersion": {"const": "monitoring.coreos.com/v1"},
            "kind": {"const": "PrometheusRule"},
            "metadata": {"type": "object", "required": ["name", "namespace"]},
            "spec": {
                "type": "object",
                "additionalProperties": False,
                "required": ["groups"],
                "properties": {
                    "groups": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["name", "rules"],
                            "properties": {
                                "name": {"type": "string"},
                                "rules": {"type": "array", "items": _RULE},
                            },
                        },
                    }
                },
            },
        },
    }
}


def validate(manifest: dict, version: str) -> None:
    key = (manifest["apiVersion"], manifest["kind"])
    if key in CRD_SCHEMAS:
        jsonschema.validate(manifest, CRD_SCHEMAS[key])
    else:
        kubernetes_validate.validate(manifest, version, strict=True)


@pytest.mark.parametrize("graph_name", list(VERSIONS))
def test_every_kubernetes_object_validates_strictly(graph_name, request):
    graph, version = request.getfixturevalue(graph_name), VERSIONS[graph_name]
    objects = graph.k8s_objects()
    assert len(objects) >= 15
    failures = []
    for r in objects:
        try:
            validate(r.plain, version)
        except Exception as exc:  # collect them all: the validator stops at the first error per object
            failures.append(f"{r.type} {r.name}: {type(exc).__name__}: {str(exc)[:300]}")
    assert failures == []


def test_the_validation_is_strict(aws_graph):
    """An unknown field, a wrong type and an unknown kind all fail (so the test above can fail)."""
    dep = aws_graph.one("kubernetes:apps/v1:Deployment", "mlflow-deployment").plain
    bad_field = {**dep, "spec": {**dep["spec"], "replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(bad_field, "1.31")
    bad_type = {**dep, "spec": {**dep["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(bad_type, "1.31")
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):
        validate({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}, "1.31")
    (rule,) = aws_graph.of("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    broken = rule.plain
    broken["spec"]["groups"][0]["rules"][0]["expresion"] = "up"
    with pytest.raises(jsonschema.ValidationError):
        validate(broken, "1.31")
