"""What a target gives the Kubernetes layer: AWS (network, EKS, node pools, RDS, S3, IRSA) or an
existing cluster. Both end in a :class:`Target` that ``program.py`` builds the platform on."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from components.access import ClusterAccess, ClusterAccessArgs
from components.autoscaler import AutoscalerArgs, ClusterAutoscaler
from components.bucket import BucketArgs, SecureBucket
from components.cluster import Cluster, ClusterArgs
from components.cluster_addons import ClusterAddons, ClusterAddonsArgs
from components.common import (
    ON_DEMAND,
    PLATFORM_TAINT_KEY,
    PLATFORM_TOLERATION,
    SYSTEM_NAMESPACE,
)
from components.database import PostgresArgs, PostgresDatabase
from components.dvc_remotes import DvcRemotes, DvcRemotesArgs
from components.ingress import (
    IngressSettings,
    LoadBalancerController,
    LoadBalancerControllerArgs,
    ingress_settings,
)
from components.irsa import Irsa
from components.label_studio import SERVICE_ACCOUNT as LS_SERVICE_ACCOUNT
from components.label_studio import PostgresEndpoint
from components.mlflow import OidcSettings, S3Keys
from components.network import Network, NetworkArgs
from components.node_pool import NodePool, NodePoolArgs
from settings import StackSettings
from shipyard.spec import PlatformSpec


def bucket_names(spec: PlatformSpec) -> dict[str, str]:
    name = spec.platform.name
    return {
        "mlflow": f"{name}-mlflow-artifacts",
        "label_studio": f"{name}-label-studio",
        "dvc": spec.services.dvc.bucket or f"{name}-dvc",
    }


def platform_tolerations(spec: PlatformSpec) -> tuple[dict[str, str], ...]:
    """What the platform's own pods tolerate: the platform pool's CriticalAddonsOnly taint, when a pool
    of the spec has it (teams' jobs and CI runners do not tolerate it, so they stay off that pool)."""
    tainted = any(t.key == PLATFORM_TAINT_KEY for pool in spec.node_pools for t in pool.effective_taints)
    return (PLATFORM_TOLERATION,) if tainted else ()


class Target:
    """What the target gives the Kubernetes layer."""

    def __init__(self, **kw: Any) -> None:
        self.provider: k8s.Provider = kw["provider"]
        self.depends_on: list[pulumi.Resource] = kw.get("depends_on", [])
        self.mlflow_backend: pulumi.Output[str] | None = kw.get("mlflow_backend")
        self.ls_postgres: PostgresEndpoint | None = kw.get("ls_postgres")
        self.mlflow_role: pulumi.Output[str] | None = kw.get("mlflow_role")
        self.ls_role: pulumi.Output[str] | None = kw.get("ls_role")
        self.s3_keys: S3Keys | None = kw.get("s3_keys")
        self.s3_endpoint: str | None = kw.get("s3_endpoint")
        self.region: str | None = kw.get("region")
        self.oidc: OidcSettings | None = kw.get("oidc")
        self.ingress: IngressSettings | None = kw.get("ingress")
        self.node_selector: dict[str, str] | None = kw.get("node_selector")
        self.dvc: DvcRemotes | None = kw.get("dvc")  # None: services.dvc.enabled is false
        self.tolerations: tuple[dict[str, str], ...] = kw.get("tolerations", ())
        # where built images go: an ECR repository per image (aws, with these options) or this registry
        self.image_registry: str | None = kw.get("image_registry")
        self.image_opts: pulumi.ResourceOptions | None = kw.get("image_opts")
        self.outputs: dict[str, Any] = kw.get("outputs", {})
        self.dev: bool = kw.get("dev", False)  # a dev stack: nothing protected (destroy takes all)


def aws_target(spec: PlatformSpec, settings: StackSettings) -> Target:
    p, s = spec.platform.name, spec.services
    region = str(spec.platform.region)
    # the region comes from the spec, not from `aws:region` stack config
    aws_provider = aws.Provider("aws", region=region)
    on_aws = pulumi.ResourceOptions(providers=[aws_provider])
    network = Network("network", NetworkArgs(p, spec.platform.cluster.name), opts=on_aws)
    cluster = Cluster(
        "cluster",
        ClusterArgs(
            p,
            spec.platform.cluster.name,
            spec.platform.cluster.kubernetes_version,
            region,
            network.node_subnet_ids,
        ),
        opts=on_aws,
    )
    pools = [
        NodePool(
            f"pool-{pool.name}",
            NodePoolArgs(
                p,
                cluster.name,
                cluster.node_role_arn,
                network.node_subnet_ids,
                pool,
                kubernetes_version=spec.platform.cluster.kubernetes_version,
            ),
            opts=on_aws,
        )
        for pool in spec.node_pools
    ]
    irsa = Irsa(cluster.oidc_provider_arn, cluster.oidc_issuer)
    # the CSI driver's pods need nodes; workloads with volumes need the driver and a default class
    addons = ClusterAddons(
        "addons",
        ClusterAddonsArgs(p, cluster.name, spec.platform.cluster.kubernetes_version, irsa, dev=settings.dev),
        opts=pulumi.ResourceOptions(providers=[aws_provider, cluster.provider], depends_on=pools),
    )
    ClusterAccess("access", ClusterAccessArgs(spec, cluster.name), opts=on_aws)
    ingress_controller = LoadBalancerController(
        "ingress",
        LoadBalancerControllerArgs(p, cluster.name, region, network.vpc_id, irsa, platform_tolerations(spec)),
        opts=pulumi.ResourceOptions(providers=[aws_provider, cluster.provider], depends_on=[addons]),
    )
    # its chart creates a Service: the controller's mutating webhook for Services (failurePolicy Fail)
    # must be answering first, or the API server refuses it ("no endpoints available")
    autoscaler = ClusterAutoscaler(
        "autoscaler",
        AutoscalerArgs(
            p,
            cluster.name,
            spec.platform.cluster.kubernetes_version,
            region,
            irsa,
            platform_tolerations(spec),
        ),
        opts=pulumi.ResourceOptions(
            providers=[aws_provider, cluster.provider], depends_on=[addons, ingress_controller]
        ),
    )
    names = bucket_names(spec)
    kw: dict[str, Any] = {
        "provider": cluster.provider,
        "depends_on": [*pools, addons, autoscaler, ingress_controller],
        "region": region,
        "ingress": ingress_settings(p, spec.platform.ingress, on_aws=True),
        "node_selector": ON_DEMAND,
        "image_opts": on_aws,
        "dev": settings.dev,
        "tolerations": platform_tolerations(spec),
    }

    def database(service: str) -> PostgresDatabase:
        return PostgresDatabase(
            f"{service}-db",
            PostgresArgs(
                p, service, s.mlflow.database_instance, network.vpc_id, network.vpc_cidr,
                network.database_subnet_ids, dev=settings.dev,
                backup_days=spec.platform.backups.retention_days,
            ),
            opts=on_aws,
        )  # fmt: skip

    if s.mlflow.enabled:
        artifacts = SecureBucket(
            "mlflow-artifacts",
            BucketArgs(
                p,
                names["mlflow"],
                "mlflow",
                service_account=(SYSTEM_NAMESPACE, "mlflow"),
                irsa=irsa,
                protect=not settings.dev,
            ),  # fmt: skip
            opts=on_aws,
        )
        kw |= {"mlflow_backend": database("mlflow").uri, "mlflow_role": artifacts.role_arn}
    if s.label_studio.enabled:
        storage = SecureBucket(
            "label-studio-storage",
            BucketArgs(
                p, names["label_studio"], "label-studio",
                service_account=(SYSTEM_NAMESPACE, LS_SERVICE_ACCOUNT), irsa=irsa, protect=not settings.dev,
            ),
            opts=on_aws,
        )  # fmt: skip
        db = database("label-studio")
        kw |= {
            "ls_postgres": PostgresEndpoint(db.host, db.port, db.database, db.username, db.password),
            "ls_role": storage.role_arn,
        }
    if s.mlflow.enabled and s.mlflow.auth == "oidc":
        kw["oidc"] = _oidc(settings)
    if s.dvc.enabled:  # the team roles come with the remotes (they grant the team's data)
        kw["dvc"] = DvcRemotes(
            "dvc",
            DvcRemotesArgs(
                p,
                [t.name for t in spec.teams],
                s.dvc.layout,
                names["dvc"],
                s.dvc.noncurrent_version_days,
                irsa=irsa,
                protect=not settings.dev,
            ),
            opts=on_aws,
        )
    kw["outputs"] = {
        "clusterName": cluster.name,
        "kubeconfig": cluster.kubeconfig,
        "teamRoleArns": kw["dvc"].team_role_arns if s.dvc.enabled else {},
        "nodePools": {pool.name: np.node_group_name for pool, np in zip(spec.node_pools, pools, strict=True)},
    }
    return Target(**kw)


def _oidc(settings: StackSettings) -> OidcSettings:
    oidc = settings.endpoint("oidc", ("issuerUrl", "clientId"))
    return OidcSettings(oidc["issuerUrl"], oidc["clientId"], settings.secret("oidcClientSecret"))


def existing_cluster_target(spec: PlatformSpec, settings: StackSettings) -> Target:
    """An existing cluster: Postgres and S3-compatible storage are given (endpoints and secrets in config)."""
    p, s = spec.platform.name, spec.services
    provider = k8s.Provider(
        "cluster", context=spec.platform.cluster.kubeconfig_context, enable_server_side_apply=True
    )
    pg = settings.endpoint("postgres", ("host", "port", "username", "mlflowDatabase", "labelStudioDatabase"))
    pg["port"] = int(pg["port"])  # JSON config numbers arrive as floats
    pg_password = settings.secret("postgresPassword")
    keys = S3Keys(settings.secret("s3AccessKeyId"), settings.secret("s3SecretAccessKey"))
    kw: dict[str, Any] = {
        "provider": provider,
        "s3_keys": keys,
        "s3_endpoint": s.dvc.endpoint_url,
        "image_registry": spec.platform.cluster.image_registry,
        "dev": settings.dev,
        "tolerations": platform_tolerations(spec),
    }
    if spec.platform.ingress.class_name:
        kw["ingress"] = ingress_settings(p, spec.platform.ingress, on_aws=False)
    if s.mlflow.enabled:
        kw["mlflow_backend"] = pulumi.Output.secret(
            pulumi.Output.format(
                "postgresql://{0}:{1}@{2}:{3}/{4}", quote(str(pg["username"]), safe=""),
                pg_password.apply(lambda pw: quote(pw, safe="")), pg["host"], pg["port"],
                pg["mlflowDatabase"],
            )
        )  # fmt: skip
        if s.mlflow.auth == "oidc":
            kw["oidc"] = _oidc(settings)
    if s.label_studio.enabled:
        kw["ls_postgres"] = PostgresEndpoint(
            pg["host"],
            pg["port"],
            pg["labelStudioDatabase"],
            pg["username"],
            pg_password,
        )
    if s.dvc.enabled:
        kw["dvc"] = DvcRemotes(
            "dvc",
            DvcRemotesArgs(
                p,
                [t.name for t in spec.teams],
                s.dvc.layout,
                bucket_names(spec)["dvc"],
                s.dvc.noncurrent_version_days,
            ),
        )
    return Target(**kw)
