"""Reading `pulumi stack output --json` (as the infra program exports it) back into Shipyard types."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from shipyard.errors import UserError
from shipyard.platform.stack_outputs import endpoints_from_outputs, parse_outputs, spec_with_outputs
from shipyard.spec import parse_spec

REPO = Path(__file__).resolve().parents[2]
# The shape `pulumi stack output --json` prints for the aws-example stack (secrets hidden).
AWS_OUTPUTS = {
    "clusterName": "acme-ml",
    "kubeconfig": "[secret]",
    "mlflowAdminPassword": "[secret]",
    "grafanaAdminPassword": "[secret]",
    "endpoints": {
        "platform": "aws",
        "mlflow": "https://mlflow.acme.example",
        "label_studio": "http://label-studio-ls-app.shipyard-system.svc.cluster.local",
        "prometheus": "http://kps-prometheus.shipyard-monitoring.svc.cluster.local:9090",
        "pushgateway": "http://pushgateway.shipyard-monitoring.svc.cluster.local:9091",
        "grafana": "http://grafana.shipyard-monitoring.svc.cluster.local",
    },
    "dvcRemotes": {"fraud": "s3://acme-ml-dvc-fraud", "search": "s3://acme-ml-dvc-search"},
}


def test_endpoints_for_a_team():
    e = endpoints_from_outputs(parse_outputs(json.dumps(AWS_OUTPUTS)), team="search")
    assert e.platform == "aws" and e.mlflow == "https://mlflow.acme.example"
    assert e.dvc_remote("search", "ranker") == "s3://acme-ml-dvc-search/search/ranker"
    env = e.to_env("search", "ranker")
    assert env["SHIPYARD_PUSHGATEWAY_URL"].endswith(":9091") and env["SHIPYARD_PLATFORM"] == "aws"
    assert endpoints_from_outputs(AWS_OUTPUTS).dvc_remote_root is None  # one bucket per team: no shared root


def test_spec_gets_the_deployed_urls():
    example = (REPO / "examples/platform.aws.yaml").read_text()
    spec = parse_spec(
        example.replace(',\n     url: "https://mlflow.ml.acme.example"', "")
    )  # no url of its own
    filled = spec_with_outputs(spec, AWS_OUTPUTS)
    assert filled.services.mlflow.url == "https://mlflow.acme.example"
    assert filled.services.prometheus.pushgateway_url.endswith(":9091")
    assert filled.services.grafana.url.startswith("http://grafana.")
    assert filled.teams == spec.teams and filled.node_pools == spec.node_pools
    assert spec.services.mlflow.url is None  # the original is untouched


@pytest.mark.parametrize(
    "text,needle",
    [
        ("not json", "not JSON"),
        ("{}", "no 'endpoints'"),
        (json.dumps({"endpoints": {"mlflow": "x"}}), "endpoints.platform"),
        (json.dumps({"endpoints": {"platform": "aws", "mlfow": "x"}}), "mlfow"),
    ],
)
def test_bad_outputs_are_user_errors(text, needle):
    with pytest.raises(UserError) as err:
        endpoints_from_outputs(parse_outputs(text))
    assert needle in err.value.message and err.value.fix


def test_unknown_team_names_the_known_ones():
    with pytest.raises(UserError) as err:
        endpoints_from_outputs(AWS_OUTPUTS, team="vision")
    assert "fraud, search" in err.value.message
