"""Self-hosted CI runners per team (spec ci.runners): the mocked program with GitHub runners on the
AWS example and GitLab runners on the on-prem one; the examples themselves (provider none) get none."""

from __future__ import annotations

import tomllib

import pytest

from .conftest import REPO

ARC_SET = "gha-runner-scale-set"
ARC_CONTROLLER = "gha-runner-scale-set-controller"
RUNNER_CHARTS = {ARC_SET, ARC_CONTROLLER, "gitlab-runner"}
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
GITLAB_TEMPLATE_VALUES = set(
    (REPO / "tests/infra/charts/gitlab-runner-0.92.0.template-values.txt").read_text().split()
)


def charts(graph) -> dict[str, list]:
    found: dict[str, list] = {}
    for r in graph.of("kubernetes:helm.sh/v3:Release"):
        found.setdefault(r.plain["chart"].rsplit("/", 1)[-1], []).append(r.plain)
    return found


def _teams(graph) -> list[str]:
    return sorted(ns.plain["metadata"]["name"] for ns in graph.of("kubernetes:core/v1:Namespace")
                  if ns.plain["metadata"]["labels"].get("shipyard.io/component") == "tenancy")  # fmt: skip


def test_no_runners_without_the_setting(aws_graph, k8s_graph, variant_graph):
    for graph in (aws_graph, k8s_graph, variant_graph):
        assert not RUNNER_CHARTS & set(charts(graph))
        assert not [r for r in graph.of(NETPOL) if r.plain["metadata"]["name"] == "ci-runner-egress"]
        assert not [r for r in graph.of("kubernetes:core/v1:Namespace")
                    if r.plain["metadata"]["name"] == "shipyard-ci"]  # fmt: skip


def test_the_component_alone_per_provider(components):
    github, gitlab, none = (components[f"ci_runners_{p}"] for p in ("github", "gitlab", "none"))
    assert github.exports["teams"] == gitlab.exports["teams"] == ["fraud", "search"]
    assert [r.plain["chart"].rsplit("/", 1)[-1] for r in github.of("kubernetes:helm.sh/v3:Release")] == [
        ARC_CONTROLLER,
        ARC_SET,
        ARC_SET,
    ]
    assert len(gitlab.of("kubernetes:helm.sh/v3:Release")) == 2 and len(gitlab.of(NETPOL)) == 2
    assert none.exports["teams"] == [] and [r.type for r in none.resources] == ["shipyard:infra:CiRunners"]


def test_github_controller_once_in_its_own_namespace(github_runners_graph):
    g = github_runners_graph
    (controller,) = charts(g)[ARC_CONTROLLER]
    assert controller["namespace"] == "shipyard-ci" and controller["version"] == "0.14.2"
    assert controller["chart"] == "oci://ghcr.io/actions/actions-runner-controller-charts/" + ARC_CONTROLLER
    assert (
        g.one("kubernetes:core/v1:Namespace", "ci-runners-namespace").plain["metadata"]["name"]
        == "shipyard-ci"
    )


def test_github_a_scale_set_per_team_as_the_teams_service_account(github_runners_graph):
    g = github_runners_graph
    sets = {r["namespace"]: r for r in charts(g)[ARC_SET]}
    teams = _teams(g)
    assert teams == ["fraud", "search"] and sorted(sets) == teams
    for team, release in sets.items():
        v = release["values"]
        assert release["name"] == v["runnerScaleSetName"] == f"shipyard-{team}"
        assert v["githubConfigUrl"] == "https://github.com/acme-ml"
        assert v["githubConfigSecret"] == "arc-github-app"  # the Secret's name, nothing else
        assert v["controllerServiceAccount"] == {"namespace": "shipyard-ci", "name": "arc"}
        pod = v["template"]["spec"]
        assert pod["serviceAccountName"] == "shipyard-runner"
        (runner,) = pod["containers"]
        # infra/images/github-runner/Dockerfile (on ghcr.io/actions/actions-runner:2.x), built by the stack
        assert (
            runner["name"] == "runner"
            and "/github-runner:2." in runner["image"]
            and "@sha256:" in runner["image"]
        )
        assert runner["resources"]["limits"]["memory"] and runner["resources"]["requests"]["cpu"]
        assert v["template"]["metadata"]["labels"]["shipyard.io/ci-runner"] == "true"
    # the spec's per-team scale (fraud) and default (search); min 0 allowed
    assert (sets["fraud"]["values"]["minRunners"], sets["fraud"]["values"]["maxRunners"]) == (1, 6)
    assert (sets["search"]["values"]["minRunners"], sets["search"]["values"]["maxRunners"]) == (0, 3)


def test_the_teams_service_account_carries_its_irsa_role(github_runners_graph):
    g = github_runners_graph
    accounts = {(a.plain["metadata"]["namespace"], a.plain["metadata"]["name"]): a.plain
                for a in g.of("kubernetes:core/v1:ServiceAccount")}  # fmt: skip
    for team in ("fraud", "search"):
        role = accounts[(team, "shipyard-runner")]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
        assert team in role
        release = next(r for r in g.of("kubernetes:helm.sh/v3:Release") if r.plain.get("namespace") == team)
        tenancy = next(n for n in g.of("kubernetes:core/v1:Namespace") if n.plain["metadata"]["name"] == team)
        assert g.waits_for(g.key(release), g.key(tenancy))  # the namespace and its account exist first


def test_gitlab_a_runner_per_team_with_kubernetes_executor(gitlab_runners_graph):
    g = gitlab_runners_graph
    assert not {ARC_SET, ARC_CONTROLLER} & set(charts(g))
    runners = {r["namespace"]: r for r in charts(g)["gitlab-runner"]}
    teams = _teams(g)
    assert teams and sorted(runners) == teams
    for team, release in runners.items():
        v = release["values"]
        assert (
            release["version"] == "0.92.0" and release["repositoryOpts"]["repo"] == "https://charts.gitlab.io"
        )
        assert v["gitlabUrl"] == "https://gitlab.acme.example/"
        assert v["runners"]["secret"] == "gitlab-runner-token" and "runnerToken" not in v
        assert v["runners"]["executor"] == "kubernetes" and v["runners"]["name"] == f"shipyard-{team}"
        kube = tomllib.loads(v["runners"]["config"])["runners"][0]["kubernetes"]
        assert kube["namespace"] == team and kube["service_account"] == "shipyard-runner"
        for key in ("cpu_request", "cpu_limit", "memory_request", "memory_limit"):
            assert kube[key] and kube[f"helper_{key}"] and kube[f"service_{key}"]
        assert kube["pod_labels"]["shipyard.io/ci-runner"] == "true"
        assert v["resources"]["requests"]["memory"] and v["resources"]["limits"]["cpu"]
        assert {
            "apiGroups": [""],
            "resources": ["pods"],
            "verbs": ["create", "delete", "get", "list", "watch"],
        } in v["rbac"]["rules"]
        # the chart's templates test `hasKey .Values.runners ...`, so the generic check accepts any key
        # under runners: each one set here must be one the templates read by name
        for key in v["runners"]:
            assert f"runners.{key}" in GITLAB_TEMPLATE_VALUES, key
    first = teams[0]
    assert runners[first]["values"]["concurrent"] == 6


@pytest.mark.parametrize("stack", ["github_runners", "gitlab_runners"])
def test_runner_pods_reach_the_platform_and_only_listed_ports_outside(stack, request):
    g = request.getfixturevalue(f"{stack}_graph")
    policies = {p.plain["metadata"]["namespace"]: p.plain for p in g.of(NETPOL)
                if p.plain["metadata"]["name"] == "ci-runner-egress"}  # fmt: skip
    assert sorted(policies) == _teams(g)
    for policy in policies.values():
        spec = policy["spec"]
        assert spec["podSelector"] == {"matchLabels": {"shipyard.io/ci-runner": "true"}}
        assert spec["policyTypes"] == ["Egress"]
        to = [[t.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
               for t in rule["to"]] for rule in spec["egress"]]  # fmt: skip
        assert ["shipyard-system", "shipyard-monitoring"] in to and ["kube-system"] in to
        outside = next(r for r in spec["egress"] if "ipBlock" in r["to"][0])
        assert 443 in [p["port"] for p in outside["ports"]]
    if stack == "gitlab_runners":  # the on-prem DVC endpoint (MinIO) listens on its own port
        ports = [p["port"] for p in outside["ports"]]
        assert ports == sorted(set(ports)) and len(ports) >= 2, ports
    # the registry admits the team namespaces (where the runner pods run)
    registry = [p.plain for p in g.of(NETPOL) if p.name == "registry-netpol"]
    for reg in registry:
        admitted = {f["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
                    for f in reg["spec"]["ingress"][0]["from"]}  # fmt: skip
        assert set(_teams(g)) <= admitted


RELEASE = "kubernetes:helm.sh/v3:Release"


def test_the_policy_takes_secret_names_but_not_credentials(rules):
    """(The whole pack over both runner stacks: test_policy.py.) The Secret's name passes; credentials
    in the chart's values, or anything that is no Secret name, are flagged."""
    ok = rules.check_plaintext_secrets
    assert ok(RELEASE, {"values": {"githubConfigSecret": "arc-github-app"}}) == []
    assert ok(RELEASE, {"values": {"runners": {"secret": "gitlab-runner-token"}}}) == []
    assert ok(RELEASE, {"values": {"githubConfigSecret": "ghp_Secret Token"}})
    assert ok(RELEASE, {"values": {"githubConfigSecret": {"github_token": "ghp_abcdef"}}})
    assert ok(RELEASE, {"values": {"runnerToken": "glrt-abcdef"}})
    assert ok(RELEASE, {"values": {"secret": "arc-github-app"}})  # only at the charts' own paths


def test_the_policy_sees_a_runner_without_limits(rules):
    runner = {"name": "runner", "resources": {"requests": {"cpu": "1"}}}
    values = {"template": {"spec": {"containers": [runner]}},
              "listenerTemplate": {"spec": {"containers": [{"name": "listener"}]}}}  # fmt: skip
    problems = rules.check_chart_resources(
        {"chart": "oci://ghcr.io/x/gha-runner-scale-set", "values": values}
    )
    assert "values.template.spec.containers.0.resources has no requests for memory" in " ".join(problems)
    assert any("listenerTemplate" in p for p in problems)
    assert rules.check_chart_resources({"chart": "gitlab-runner", "values": {}})


def test_docs_tell_how_to_create_the_secrets():
    doc = (REPO / "docs/platform-engineer.md").read_text()
    assert "create secret generic arc-github-app" in doc and "runner-token=glrt-" in doc
