"""Compose the platform from the spec: the target (AWS or an existing cluster, ``targets.py``), then
the same Kubernetes layer on either. Returns the stack outputs."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from components.ci_runners import GITHUB_RUNNER_VERSION, CiRunners, CiRunnersArgs, egress_ports
from components.common import (
    k8s_labels,
)
from components.gpu import GpuSupport, GpuSupportArgs
from components.images import BuiltImage, ImageArgs
from components.label_studio import LabelStudio, LabelStudioArgs
from components.mlflow import Mlflow, MlflowArgs
from components.monitoring import Monitoring, MonitoringArgs, kubectl_tag
from components.namespaces import SystemNamespaces, SystemNamespacesArgs
from components.portal import Portal, PortalArgs
from components.registry import Registry, RegistryArgs
from components.team_tenancy import TeamTenancy, TeamTenancyArgs
from settings import StackSettings
from shipyard.platform.env import (
    ENV_DVC_ENDPOINT,
    ENV_GRAFANA_URL,
    ENV_LABEL_STUDIO_URL,
    ENV_MLFLOW,
    ENV_PACKAGE_INDEX,
    ENV_PLATFORM,
    ENV_PROMETHEUS,
    ENV_PUSHGATEWAY,
    ENV_REGISTRY,
)
from shipyard.spec import Environment, PlatformSpec
from shipyard.spec.services import SHIPYARD_IMAGE_VERSION
from targets import Target, aws_target, bucket_names, existing_cluster_target

ENDPOINTS_CONFIGMAP = "shipyard-endpoints"  # what a team's Jobs read (the template's k8s/train-job.yaml)


def build(spec: PlatformSpec, settings: StackSettings) -> dict[str, Any]:
    """``spec`` passed the cluster rules (load_spec(target=CLUSTER), shipyard/spec/cluster.py)."""
    if spec.platform.environment == Environment.aws:
        base = aws_target(spec, settings)
    else:
        base = existing_cluster_target(spec, settings)
    return _kubernetes_layer(spec, base, settings.spec_path.read_text())


def _kubernetes_layer(spec: PlatformSpec, base: Target, spec_text: str) -> dict[str, Any]:
    p, s = spec.platform.name, spec.services
    names = bucket_names(spec)
    opts = pulumi.ResourceOptions(provider=base.provider, depends_on=base.depends_on)
    namespaces = SystemNamespaces("namespaces", SystemNamespacesArgs(p), opts=opts)
    in_ns = pulumi.ResourceOptions(provider=base.provider, depends_on=[*base.depends_on, namespaces])

    teams = {
        team.name: TeamTenancy(
            f"team-{team.name}",
            TeamTenancyArgs(p, team, base.dvc.team_role_arns.get(team.name) if base.dvc else None),
            opts=opts,
        )
        for team in spec.teams
    }
    runners = spec.ci.runners
    version = spec.platform.cluster.kubernetes_version
    if runners.provider != "none":  # self-hosted CI runners per team (docs/platform-engineer.md)
        runner_image = None
        if runners.provider == "github":  # the template's CI needs make and kubectl on the runner
            runner_image = _built_image(
                spec, base, "github-runner", GITHUB_RUNNER_VERSION, {"KUBECTL_VERSION": kubectl_tag(version)}
            )
        CiRunners(
            "ci-runners",
            CiRunnersArgs(
                p, runners, tuple(teams),
                egress_ports=egress_ports(
                    runners.service_url, s.dvc.endpoint_url, s.package_index.url, s.mlflow.url
                ),
                node_selector=base.node_selector, after={name: [t] for name, t in teams.items()},
                runner_image=runner_image, tolerations=base.tolerations,
            ),
            opts=in_ns,
        )  # fmt: skip
    outputs: dict[str, Any] = dict(base.outputs)
    endpoints: dict[str, Any] = {
        "platform": spec.platform.environment.value,
        "dvc_remote_root": base.dvc.shared_root if base.dvc else None,
        "dvc_endpoint_url": base.s3_endpoint,
    }
    portal_reads: dict[str, str] = {}  # the portal's endpoints, in-cluster where the service runs here
    mlflow = registry = None
    shipyard_image: pulumi.Input[str] | None = None
    if s.mlflow.enabled:
        assert base.mlflow_backend is not None
        # the registry, the portal and MLflow under OIDC run it: a prebuilt one by digest, or built here
        shipyard_image = s.registry.image or _built_image(spec, base, "shipyard", SHIPYARD_IMAGE_VERSION)
        mlflow = Mlflow(
            "mlflow",
            MlflowArgs(
                p, namespaces.system, s.mlflow, base.mlflow_backend, f"s3://{names['mlflow']}/artifacts",
                region=base.region, s3_endpoint_url=base.s3_endpoint, irsa_role_arn=base.mlflow_role,
                s3_keys=base.s3_keys, oidc=base.oidc, ingress=base.ingress, node_selector=base.node_selector,
                shipyard_image=shipyard_image, client_namespaces=tuple(t.name for t in spec.teams),
                tolerations=base.tolerations,
            ),
            opts=in_ns,
        )  # fmt: skip
        # the URL a team's jobs use with their basic-auth login: behind OIDC the public URL is the proxy's
        # (people's browsers), so jobs (in-cluster runners, training Jobs) get MLflow's own port
        endpoints["mlflow"] = mlflow.service_url if s.mlflow.auth == "oidc" else mlflow.url
        outputs["mlflowAdminPassword"] = mlflow.admin_password
        # the registry signs callers in against MLflow's basic-auth users (and, behind OIDC, people
        # through its own proxy sidecar) and creates its account with MLflow's admin login
        registry = Registry(
            "registry",
            RegistryArgs(
                p, namespaces.system, s.registry, spec_text, mlflow.service_url, image=shipyard_image,
                client_namespaces=tuple(t.name for t in spec.teams),  # a team's namespace is its name
                node_selector=base.node_selector,
                oidc_issuer_url=base.oidc.issuer_url if s.mlflow.auth == "oidc" and base.oidc else None,
                protect=not base.dev, tolerations=base.tolerations,
            ),
            opts=pulumi.ResourceOptions(
                provider=base.provider, depends_on=[*base.depends_on, namespaces, mlflow]
            ),
        )  # fmt: skip
        endpoints["registry"] = registry.url
        portal_reads[ENV_REGISTRY] = registry.url
    if s.label_studio.enabled:
        assert base.ls_postgres is not None
        ls = LabelStudio(
            "label-studio",
            LabelStudioArgs(
                p, namespaces.system, s.label_studio, base.ls_postgres, names["label_studio"],
                region=base.region, s3_endpoint_url=base.s3_endpoint, irsa_role_arn=base.ls_role,
                s3_keys=base.s3_keys, node_selector=base.node_selector, tolerations=base.tolerations,
            ),
            opts=in_ns,
        )  # fmt: skip
        endpoints["label_studio"] = ls.url
        portal_reads[ENV_LABEL_STUDIO_URL] = ls.service_url
        outputs["labelStudioAdminPassword"] = ls.admin_password
    if s.prometheus.enabled:
        monitoring = Monitoring(
            "monitoring",
            MonitoringArgs(
                p,
                namespaces.monitoring,
                s.prometheus,
                s.grafana,
                spec.governance.risk_tiers,
                managed_control_plane=spec.platform.environment == Environment.aws,
                teams=tuple(t.name for t in spec.teams),
                kubernetes_version=version,
                node_selector=base.node_selector,
                tolerations=base.tolerations,
            ),
            opts=in_ns,
        )
        endpoints |= {
            "prometheus": monitoring.prometheus_url,
            "pushgateway": monitoring.pushgateway_url,
            "grafana": monitoring.grafana_url,
        }
        outputs["grafanaAdminPassword"] = monitoring.grafana_admin_password
        portal_reads |= {
            ENV_PROMETHEUS: monitoring.prometheus_url,
            ENV_PUSHGATEWAY: monitoring.pushgateway_url,
        }
        if monitoring.grafana_service_url:
            portal_reads[ENV_GRAFANA_URL] = monitoring.grafana_service_url
    if spec.gpu_pools and not spec.platform.cluster.gpu_operator:
        prometheus = s.prometheus.enabled
        GpuSupport(
            "gpu",
            GpuSupportArgs(
                p,
                namespaces.monitoring if prometheus else namespaces.system,
                sorted({str(g.gpu_type) for g in spec.gpu_pools}),
                labelled_nodes=spec.platform.environment == Environment.aws,
                service_monitor=prometheus,
                after=[monitoring.stack] if prometheus else [],
            ),
            opts=in_ns,
        )
    if s.portal.enabled:
        portal = _portal(spec, base, spec_text, namespaces, mlflow, registry, portal_reads, shipyard_image)
        if portal is not None:
            endpoints["portal"] = portal.url
    job_env = _job_endpoints(spec, endpoints)
    for name, tenancy in teams.items():
        k8s.core.v1.ConfigMap(
            f"team-{name}-endpoints",
            metadata={
                "name": ENDPOINTS_CONFIGMAP,
                "namespace": name,
                "labels": k8s_labels(p, "tenancy", name),
            },
            data=job_env,
            opts=pulumi.ResourceOptions(provider=base.provider, depends_on=[tenancy]),
        )
    outputs |= {
        "endpoints": {k: v for k, v in endpoints.items() if v is not None},
        "dvcRemotes": base.dvc.roots if base.dvc else {},
        "teamNamespaces": {name: t.namespace for name, t in teams.items()},
    }
    return outputs


def _built_image(
    spec: PlatformSpec, base: Target, image: str, tag: str, build_args: dict[str, str] | None = None
) -> pulumi.Output[str]:
    """An image of infra/images/ built and pushed during `pulumi up`: its reference by digest."""
    built = BuiltImage(
        f"{image}-image",
        ImageArgs(
            spec.platform.name, image, tag, registry=base.image_registry, build_args=build_args, dev=base.dev
        ),
        opts=base.image_opts,
    )
    return built.ref


def _job_endpoints(spec: PlatformSpec, endpoints: dict[str, Any]) -> dict[str, Any]:
    """The environment a team's Jobs get from the ``shipyard-endpoints`` ConfigMap: the platform's URLs
    as a job in the cluster reaches them (credentials stay in the Secret ``shipyard-credentials``)."""
    env = {
        ENV_PLATFORM: spec.platform.environment.value,
        ENV_MLFLOW: endpoints.get("mlflow"),
        ENV_REGISTRY: endpoints.get("registry"),
        ENV_DVC_ENDPOINT: endpoints.get("dvc_endpoint_url"),
        ENV_LABEL_STUDIO_URL: endpoints.get("label_studio"),
        ENV_PROMETHEUS: endpoints.get("prometheus"),
        ENV_PUSHGATEWAY: endpoints.get("pushgateway"),
        ENV_GRAFANA_URL: endpoints.get("grafana"),
        ENV_PACKAGE_INDEX: spec.services.package_index.url if spec.services.package_index.enabled else None,
    }
    return {k: v for k, v in env.items() if v is not None}


def _portal(
    spec: PlatformSpec,
    base: Target,
    spec_text: str,
    namespaces: SystemNamespaces,
    mlflow: Mlflow | None,
    registry: Registry | None,
    reads: dict[str, str],
    image: pulumi.Input[str] | None,
) -> Portal | None:
    """The portal: it reads MLflow with an account MLflow's admin creates. People sign in on its form
    against their MLflow basic-auth login, or, with services.mlflow.auth oidc, through an oauth2-proxy
    sidecar with the same OIDC settings as MLflow's (Streamlit on loopback, the person from the proxy's
    header; the registry is called as the portal's account on behalf of the person)."""
    s = spec.services
    if mlflow is None:
        pulumi.log.warn(
            "MLflow is not enabled: the portal is not deployed (it reads everything from MLflow); "
            "fix: services.portal.enabled: false, or enable services.mlflow"
        )
        return None
    oidc = base.oidc if s.mlflow.auth == "oidc" else None
    after = [*base.depends_on, namespaces, mlflow, *([registry] if registry else [])]
    return Portal(
        "portal",
        PortalArgs(
            spec.platform.name, spec.platform.environment.value, namespaces.system, s.portal,
            image, spec_text, mlflow.service_url, reads,
            monitoring_namespace=namespaces.monitoring if s.prometheus.enabled else None,
            ingress=base.ingress, node_selector=base.node_selector,
            audit_database_secret=s.registry.audit_database_secret, oidc=oidc, tolerations=base.tolerations,
        ),
        opts=pulumi.ResourceOptions(provider=base.provider, depends_on=after),
    )  # fmt: skip
