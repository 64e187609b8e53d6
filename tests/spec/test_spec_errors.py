"""Every class of bad spec fails with the file, the field path and the YAML line, never a traceback."""

from __future__ import annotations

import pytest
from shipyard.spec import SpecError, parse_spec

TEAM = "  - {name: ml, owners: [a@b.co], monthly_budget: 100}\n"
HEAD = "platform: {name: p}\nteams:\n" + TEAM


def pool(**fields: object) -> str:
    base = {"name": "g", "instance_types": "[g5.xlarge]", "min_size": 0, "max_size": 2}
    base.update(fields)
    return "node_pools:\n  - " + "\n    ".join(f"{k}: {v}" for k, v in base.items()) + "\n"


CLUSTER = "platform: {name: p, environment: kubernetes}\nteams:\n" + TEAM + pool()
PASTED_URL = "postgresql://audit:pw-S3cret@db:5432/audit"

CASES = [
    # (id, yaml text, expected field path, expected line, words in the message)
    ("unknown key", HEAD + "colour: red\n", "colour", 4, "unknown key"),
    (
        "unknown nested key",
        "platform: {name: p, flavour: x}\nteams:\n" + TEAM,
        "platform.flavour",
        1,
        "unknown key",
    ),
    ("wrong type", HEAD + pool(min_size="[1]"), "node_pools[0].min_size", 7, "whole number"),
    ("negative size", HEAD + pool(min_size=-1), "node_pools[0].min_size", 7, ">= 0"),
    ("zero max size", HEAD + pool(max_size=0), "node_pools[0].max_size", 8, "> 0"),
    ("min > max", HEAD + pool(min_size=5, max_size=2), "node_pools[0]", 5, "greater than max_size"),
    ("gpu without type", HEAD + pool(gpus_per_node=1), "node_pools[0]", 5, "needs gpu_type"),
    (
        "duplicate team",
        "platform: {name: p}\nteams:\n" + TEAM + TEAM,
        "teams[1].name",
        4,
        "appears twice",
    ),
    (
        "duplicate pool",
        HEAD + pool() + "  - {name: g, instance_types: [m6i.large], min_size: 0, max_size: 1}\n",
        "node_pools[1].name",
        9,
        "appears twice",
    ),
    (
        "budget not a number",
        "platform: {name: p}\nteams:\n  - {name: ml, owners: [a@b.co], monthly_budget: lots}\n",
        "teams[0].monthly_budget",
        3,
        "expected a number",
    ),
    (
        "zero budget",
        "platform: {name: p}\nteams:\n  - {name: ml, owners: [a@b.co], monthly_budget: 0}\n",
        "teams[0].monthly_budget",
        3,
        "> 0",
    ),
    ("pool references unknown team", HEAD + pool(teams="[ml, ghosts]"), "node_pools[0].teams", 9, "'ghosts'"),
    (
        "unknown environment",
        "platform: {name: p, environment: mars}\nteams:\n" + TEAM,
        "platform.environment",
        1,
        "'aws'",
    ),
    (
        "aws without region",
        "platform: {name: p, environment: aws}\nteams:\n" + TEAM + pool(),
        "platform",
        1,
        "needs a region",
    ),
    (
        "unpriced instance on aws",
        "platform: {name: p, environment: aws, region: us-east-1}\nteams:\n"
        + TEAM
        + pool(instance_types="[x9.huge]"),
        "node_pools[0].instance_types",
        6,
        "no price",
    ),
    (
        "bad owner email",
        "platform: {name: p}\nteams:\n  - {name: ml, owners: [nobody], monthly_budget: 1}\n",
        "teams[0].owners",
        3,
        "not an email",
    ),
    (
        "bad quota",
        "platform: {name: p}\nteams:\n  - {name: ml, owners: [a@b.co], monthly_budget: 1,\n"
        "     quota: {cpu: lots}}\n",
        "teams[0].quota.cpu",
        4,
        "Kubernetes quantity",
    ),
    ("negative price", HEAD + "pricing: {storage_gb_month: -1}\n", "pricing.storage_gb_month", 4, ">= 0"),
    (
        "price not a number",
        HEAD + "pricing:\n  instance_hour: {m6i.large: cheap}\n",
        "pricing.instance_hour.m6i.large",
        5,
        "expected a number",
    ),
    (
        "foreign-currency table borrowing USD defaults",
        "platform: {name: p, currency: EUR}\nteams:\n" + TEAM + "pricing:\n  currency: EUR\n"
        "  instance_hour: {m6i.large: 0.1}\n  storage_gb_month: 0.02\n",
        "pricing",
        4,
        "missing: gpu_hour, block_storage_gb_month",
    ),
    ("missing teams", "platform: {name: p}\n", "teams", 1, "required"),
    ("bad name", "platform: {name: My_Platform}\nteams:\n" + TEAM, "platform.name", 1, "does not match"),
    ("duplicate key", HEAD + "teams: []\n", "teams", 4, "given twice"),
    ("port clash", HEAD + "local:\n  ports: {mlflow: 9090}\n", "local", 4, "both 9090"),
    (
        "audit database secret not a Secret name",
        CLUSTER + "services:\n  registry: {audit_database_secret: Audit_DB}\n",
        "services.registry.audit_database_secret",
        10,
        "not a Kubernetes Secret name",
    ),
    (
        "audit database URL pasted in the spec",
        CLUSTER + f"services:\n  registry:\n    audit_database_secret: {PASTED_URL}\n",
        "services.registry.audit_database_secret",
        11,
        "name the Kubernetes Secret that holds it",
    ),
    (
        "audit database secret on one machine",
        HEAD + "services:\n  registry: {audit_database_secret: shipyard-audit-db}\n",
        "services.registry.audit_database_secret",
        5,
        "is for a cluster",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_spec_names_field_and_line(case):
    _, text, path, line, words = case
    with pytest.raises(SpecError) as info:
        parse_spec(text, "bad.yaml")
    problems = {(p.path, p.line): p.message for p in info.value.problems}
    assert (path, line) in problems, problems
    assert words in problems[(path, line)]
    assert str(info.value).startswith("bad.yaml")


@pytest.mark.parametrize(
    "text,words",
    [
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("platform: {name: x\n", "invalid YAML"),
        ("- a\n- b\n", "must be a mapping"),
    ],
)
def test_unparseable_files(text, words):
    with pytest.raises(SpecError, match=words):
        parse_spec(text, "bad.yaml")


def test_invalid_yaml_points_at_line():
    with pytest.raises(SpecError) as info:
        parse_spec("platform:\n  name: p\nteams:\n  - name: [unclosed\n", "bad.yaml")
    assert info.value.problems[0].line is not None and info.value.problems[0].line >= 4


def test_all_problems_are_reported_not_only_the_first():
    text = (
        "platform: {name: p, environment: mars}\n"
        "teams:\n  - {name: ml, owners: [a@b.co], monthly_budget: x}\n"
    )
    with pytest.raises(SpecError) as info:
        parse_spec(text, "bad.yaml")
    assert {p.path for p in info.value.problems} == {"platform.environment", "teams[0].monthly_budget"}


def test_a_pasted_audit_database_url_is_never_echoed():
    text = CLUSTER + f"services:\n  registry: {{audit_database_secret: '{PASTED_URL}'}}\n"
    with pytest.raises(SpecError) as info:
        parse_spec(text, "bad.yaml")
    assert "pw-S3cret" not in str(info.value) and "fix:" in str(info.value)


def test_a_cluster_serves_the_portal_over_https_only():
    """The portal is one of the services infra puts behind the platform's TLS ingress."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "examples/platform.aws.yaml").read_text()
    assert 'url: "https://portal.ml.acme.example"' in text
    parse_spec(text, "platform.yaml", target="aws")
    with pytest.raises(SpecError, match=r"services\.portal\.url: .* over https\n  fix: "):
        parse_spec(text.replace("https://portal.", "http://portal."), "platform.yaml", target="aws")
