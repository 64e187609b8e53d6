"""Self-hosted CI runners inside the cluster (spec ``ci.runners``): one runner set per team, in the
team's namespace, whose jobs run as the team's service account (its IRSA role on AWS). So a project's
CI reaches the platform's internal endpoints and the team's data without them being exposed.

GitHub: actions-runner-controller (the controller once, in its own namespace; a runner scale set
``shipyard-<team>`` per team, selected with ``runs-on: [self-hosted, shipyard-<team>]``).
GitLab: a gitlab-runner (Kubernetes executor) per team, for a runner tagged ``shipyard-<team>``.
The credentials stay in Secrets the platform engineer creates; only their names are used here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pulumi
import pulumi_kubernetes as k8s
from shipyard.spec.ci import CiRunners as CiRunnersSpec

from components.common import (
    ARC_CONTROLLER_CHART,
    ARC_SCALE_SET_CHART,
    GITLAB_RUNNER_CHART,
    MONITORING_NAMESPACE,
    SYSTEM_NAMESPACE,
    TEAM_SERVICE_ACCOUNT,
    ChartPin,
    Component,
    child,
    container_resources,
    k8s_labels,
)

CI_NAMESPACE = "shipyard-ci"  # the ARC controller and the scale sets' listeners
ARC_CONTROLLER = "arc"  # its fullnameOverride, hence also its service account's name
RUNNER_LABEL = "shipyard.io/ci-runner"  # on every pod that runs a CI job (the egress policy selects it)
# the runner version actions-runner-controller's own Makefile builds at the pinned chart's tag; the
# scale sets run infra/images/github-runner/Dockerfile built on it (make, kubectl: the template's CI)
GITHUB_RUNNER_VERSION = "2.334.0"
GITHUB_RUNNER_IMAGE = f"ghcr.io/actions/actions-runner:{GITHUB_RUNNER_VERSION}"
GITLAB_DEFAULT_IMAGE = "python:3.12"  # only for a job without `image:` (the template's jobs name one)
JOB_CPU, JOB_CPU_LIMIT, JOB_MEMORY = "1", "2", "4Gi"
LISTENER = container_resources("50m", "64Mi", "250m")  # a scale set's listener (in CI_NAMESPACE)
# the gitlab-runner manager's Role in the team namespace: the executor's documented minimum
GITLAB_RBAC_RULES = [
    {"apiGroups": [""], "resources": resources, "verbs": verbs}
    for resources, verbs in (
        (["pods"], ["create", "delete", "get", "list", "watch"]),
        (["pods/attach", "pods/exec"], ["create", "delete", "get", "patch"]),
        (["pods/log"], ["get", "list"]),
        (["secrets", "configmaps"], ["create", "delete", "get", "update"]),
        (["serviceaccounts"], ["get"]),
        (["events"], ["list", "watch"]),
    )
]


@dataclass(frozen=True)
class CiRunnersArgs:
    platform: str
    runners: CiRunnersSpec
    teams: tuple[str, ...]  # a team's namespace is its name; its service account is TEAM_SERVICE_ACCOUNT
    # what runner pods may reach outside the cluster: HTTPS (the CI service, the package index, S3)
    # plus the ports of the platform's endpoints that are not on 443 (e.g. MinIO on :9000)
    egress_ports: tuple[int, ...] = (443,)
    platform_namespaces: tuple[str, ...] = (SYSTEM_NAMESPACE, MONITORING_NAMESPACE)
    node_selector: dict[str, str] | None = None  # the controller/managers (platform services)
    after: dict[str, list[pulumi.Resource]] = field(default_factory=dict)  # per team: its tenancy
    runner_image: pulumi.Input[str] | None = None  # GitHub: the built runner image (images.py)
    tolerations: tuple[dict[str, str], ...] = ()  # the platform pool's taint (PLATFORM_TOLERATION)


def egress_ports(*urls: str | None) -> tuple[int, ...]:
    """HTTPS, plus the port of each URL given (the platform endpoints runner jobs call)."""
    ports = {443}
    for url in filter(None, urls):
        parsed = urlsplit(url)
        ports.add(parsed.port or (80 if parsed.scheme == "http" else 443))
    return tuple(sorted(ports))


def chart_ref(pin: ChartPin) -> dict[str, Any]:
    """The Release arguments naming a pinned chart: an OCI reference, or a chart in a Helm repository."""
    if pin.repo.startswith("oci://"):
        return {"chart": f"{pin.repo}/{pin.chart}", "version": pin.version}
    return {"chart": pin.chart, "version": pin.version, "repository_opts": {"repo": pin.repo}}


def gitlab_config(team: str) -> str:
    """The runner's config.toml part (the chart renders the rest): job pods in the team namespace, as
    the team's service account, with requests and limits, labelled for the egress policy."""
    return "\n".join(
        [
            "[[runners]]",
            "  [runners.kubernetes]",
            f'    namespace = "{team}"',
            f'    service_account = "{TEAM_SERVICE_ACCOUNT}"',
            f'    image = "{GITLAB_DEFAULT_IMAGE}"',
            f'    cpu_request = "{JOB_CPU}"',
            f'    cpu_limit = "{JOB_CPU_LIMIT}"',
            f'    memory_request = "{JOB_MEMORY}"',
            f'    memory_limit = "{JOB_MEMORY}"',
            '    helper_cpu_request = "100m"',
            '    helper_cpu_limit = "500m"',
            '    helper_memory_request = "128Mi"',
            '    helper_memory_limit = "256Mi"',
            '    service_cpu_request = "100m"',
            '    service_cpu_limit = "1"',
            '    service_memory_request = "256Mi"',
            '    service_memory_limit = "1Gi"',
            "    [runners.kubernetes.pod_labels]",
            f'      "{RUNNER_LABEL}" = "true"',
            f'      "shipyard.io/team" = "{team}"',
            "",
        ]
    )


class CiRunners(Component):
    releases: dict[str, k8s.helm.v3.Release]

    def __init__(self, name: str, args: CiRunnersArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:infra:CiRunners", name, opts)
        r = args.runners
        self.releases = {}
        controller: k8s.helm.v3.Release | None = None
        if r.provider == "github":
            labels = k8s_labels(args.platform, "ci-runners")
            ns = k8s.core.v1.Namespace(
                f"{name}-namespace",
                metadata={
                    "name": CI_NAMESPACE,
                    "labels": {**labels, "pod-security.kubernetes.io/enforce": "baseline"},
                },
                opts=child(self),
            )
            controller = k8s.helm.v3.Release(
                f"{name}-arc-controller",
                name=ARC_CONTROLLER,
                namespace=CI_NAMESPACE,
                **chart_ref(ARC_CONTROLLER_CHART),
                values={
                    "fullnameOverride": ARC_CONTROLLER,
                    "resources": container_resources("100m", "256Mi", "500m"),
                    "podLabels": labels,
                    **({"nodeSelector": args.node_selector} if args.node_selector else {}),
                    **({"tolerations": list(args.tolerations)} if args.tolerations else {}),
                },
                atomic=True,
                opts=child(self, depends_on=[ns]),
            )
        for team in args.teams:
            after = args.after.get(team, [])
            if r.provider == "github":
                assert r.github is not None and controller is not None
                self.releases[team] = self._github(name, args, team, controller, after)
            elif r.provider == "gitlab":
                self.releases[team] = self._gitlab(name, args, team, after)
            else:
                continue
            self._egress(name, args, team, after)
        self.register_outputs({"runnerLabels": {t: r.label(t) for t in self.releases}})

    def _github(
        self,
        name: str,
        args: CiRunnersArgs,
        team: str,
        controller: k8s.helm.v3.Release,
        after: list[pulumi.Resource],
    ) -> k8s.helm.v3.Release:
        r, gh = args.runners, args.runners.github
        assert gh is not None
        scale, label = r.scale_of(team), r.label(team)
        labels = k8s_labels(args.platform, "ci-runners", team)
        values: dict[str, Any] = {
            "githubConfigUrl": gh.config_url,
            "githubConfigSecret": gh.secret,  # an existing Secret's name: never the credentials
            "runnerScaleSetName": label,
            "minRunners": scale.min_runners,
            "maxRunners": scale.max_runners,
            "controllerServiceAccount": {"namespace": CI_NAMESPACE, "name": ARC_CONTROLLER},
            "labels": labels,
            "listenerTemplate": {
                "spec": {
                    "containers": [{"name": "listener", "resources": LISTENER}],
                    **({"nodeSelector": args.node_selector} if args.node_selector else {}),
                    **({"tolerations": list(args.tolerations)} if args.tolerations else {}),
                }
            },
            "template": {
                "metadata": {"labels": {**labels, RUNNER_LABEL: "true"}},
                "spec": {
                    "serviceAccountName": TEAM_SERVICE_ACCOUNT,
                    "containers": [
                        {
                            "name": "runner",
                            "image": args.runner_image or GITHUB_RUNNER_IMAGE,
                            "command": ["/home/runner/run.sh"],
                            "resources": container_resources(JOB_CPU, JOB_MEMORY, JOB_CPU_LIMIT),
                        }
                    ],
                },
            },
        }  # fmt: skip
        if gh.runner_group:
            values["runnerGroup"] = gh.runner_group
        return k8s.helm.v3.Release(
            f"{name}-{team}",
            name=label,
            namespace=team,
            **chart_ref(ARC_SCALE_SET_CHART),
            values=values,
            atomic=True,
            opts=child(self, depends_on=[controller, *after]),
        )

    def _gitlab(
        self, name: str, args: CiRunnersArgs, team: str, after: list[pulumi.Resource]
    ) -> k8s.helm.v3.Release:
        r, gl = args.runners, args.runners.gitlab
        assert gl is not None
        labels = k8s_labels(args.platform, "ci-runners", team)
        values: dict[str, Any] = {
            "gitlabUrl": gl.url,
            "concurrent": r.scale_of(team).max_runners,  # job pods at once (none idle: min is 0)
            "runners": {
                "name": r.label(team),
                "executor": "kubernetes",
                "secret": gl.secret,  # an existing Secret's name (runner-token): never the token
                "config": gitlab_config(team),
            },
            "rbac": {"create": True, "rules": GITLAB_RBAC_RULES},
            "serviceAccount": {"create": True, "name": "gitlab-runner"},
            "resources": container_resources("100m", "128Mi", "500m"),
            "podLabels": labels,
        }
        if args.node_selector:
            values["nodeSelector"] = args.node_selector
        if args.tolerations:
            values["tolerations"] = list(args.tolerations)
        return k8s.helm.v3.Release(
            f"{name}-{team}",
            name="gitlab-runner",
            namespace=team,
            **chart_ref(GITLAB_RUNNER_CHART),
            values=values,
            atomic=True,
            opts=child(self, depends_on=after),
        )

    def _egress(self, name: str, args: CiRunnersArgs, team: str, after: list[pulumi.Resource]) -> None:
        """Runner pods reach DNS, the platform's namespaces (MLflow, registry, Pushgateway) and, outside
        the cluster, only the listed ports (the CI service, the package index, the DVC endpoint)."""

        def namespace(n: str) -> dict[str, Any]:
            return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": n}}}

        k8s.networking.v1.NetworkPolicy(
            f"{name}-{team}-egress",
            metadata={
                "name": "ci-runner-egress",
                "namespace": team,
                "labels": k8s_labels(args.platform, "ci-runners", team),
            },
            spec={
                "podSelector": {"matchLabels": {RUNNER_LABEL: "true"}},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [namespace("kube-system")],
                        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
                    },
                    {"to": [namespace(n) for n in args.platform_namespaces]},
                    {
                        "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                        "ports": [{"port": p, "protocol": "TCP"} for p in sorted(set(args.egress_ports))],
                    },
                ],
            },
            opts=child(self, depends_on=after),
        )
