"""Each infra component built alone with typical args (run by harness.py under Pulumi mocks).

Every case returns the outputs the tests look at; harness.py records the resources each case creates.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
from components.bucket import BucketArgs, SecureBucket
from components.ci_runners import CiRunners, CiRunnersArgs
from components.cluster import Cluster, ClusterArgs
from components.cluster_addons import ClusterAddons, ClusterAddonsArgs
from components.database import PostgresArgs, PostgresDatabase
from components.dvc_remotes import DvcRemotes, DvcRemotesArgs
from components.gpu import GpuSupport, GpuSupportArgs
from components.ingress import ingress_settings
from components.irsa import Irsa
from components.label_studio import LabelStudio, LabelStudioArgs, PostgresEndpoint
from components.mlflow import Mlflow, MlflowArgs, OidcSettings, S3Keys
from components.monitoring import Monitoring, MonitoringArgs
from components.namespaces import SystemNamespaces, SystemNamespacesArgs
from components.network import Network, NetworkArgs
from components.node_pool import NodePool, NodePoolArgs
from components.portal import Portal, PortalArgs
from components.registry import Registry, RegistryArgs
from components.team_tenancy import TeamTenancy, TeamTenancyArgs
from shipyard.spec import load_spec
from shipyard.spec.ci import CiRunners as CiRunnersSpec
from shipyard.spec.platform_info import IngressSpec

REPO = Path(__file__).resolve().parents[2]
AWS = load_spec(REPO / "examples/platform.aws.yaml")
IRSA = Irsa("arn:aws:iam::123456789012:oidc-provider/oidc.eks", "oidc.eks.us-east-1.amazonaws.com/id/ABC")
# the shipyard image as the program hands it to components: built by the stack, named by digest
SHIPYARD_IMAGE = "registry.example/shipyard/shipyard:0.1.0@sha256:" + "5e" * 32
SECRET_URI = pulumi.Output.secret("postgresql://mlflow:pw%40Secret1@db:5432/mlflow")


def network() -> dict[str, Any]:
    n = Network("network", NetworkArgs("acme-ml", "acme-ml", zones=3))
    return {"vpcId": n.vpc_id, "nodeSubnets": n.node_subnet_ids, "dbSubnets": n.database_subnet_ids}


def cluster() -> dict[str, Any]:
    c = Cluster("cluster", ClusterArgs("acme-ml", "acme-ml", "1.31", "us-east-1", ["s1", "s2"]))
    return {"kubeconfig": c.kubeconfig, "oidcIssuer": c.oidc_issuer, "nodeRoleArn": c.node_role_arn}


def cluster_addons() -> dict[str, Any]:
    a = ClusterAddons("addons", ClusterAddonsArgs("acme-ml", "acme-ml", "1.35", IRSA))
    return {"storageClass": a.storage_class}


def _pool(name: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        pool = next(p for p in AWS.node_pools if p.name == name)
        np = NodePool(
            f"pool-{name}", NodePoolArgs("acme-ml", "acme-ml", "arn:role/nodes", ["s1", "s2"], pool)
        )
        return {"nodeGroupName": np.node_group_name}

    return build


def _database(dev: bool) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        db = PostgresDatabase(
            "mlflow-db",
            PostgresArgs(
                "acme-ml", "mlflow", "db.t4g.medium", "vpc-1", "10.40.0.0/16", ["d1", "d2"], dev=dev
            ),
        )
        return {"uri": db.uri, "password": db.password, "host": db.host}

    return build


def bucket() -> dict[str, Any]:
    b = SecureBucket(
        "mlflow-artifacts",
        BucketArgs(
            "acme-ml",
            "acme-ml-mlflow-artifacts",
            "mlflow",
            service_account=("shipyard-system", "mlflow"),
            irsa=IRSA,
        ),
    )
    return {"bucket": b.bucket, "roleArn": b.role_arn}


def _dvc(layout: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        d = DvcRemotes(
            "dvc", DvcRemotesArgs("acme-ml", ["fraud", "search"], layout, "acme-ml-dvc", irsa=IRSA)
        )
        return {"roots": d.roots, "sharedRoot": d.shared_root, "roles": d.team_role_arns}

    return build


def team_tenancy() -> dict[str, Any]:
    t = TeamTenancy("team-fraud", TeamTenancyArgs("acme-ml", AWS.team("fraud"), "arn:aws:iam::1:role/fraud"))
    return {"namespace": t.namespace}


def _mlflow(auth: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        spec = AWS.services.mlflow.model_copy(
            update={"auth": auth, "replicas": 3, "url": "https://mlflow.acme.example"}
        )
        extra: dict[str, Any] = {
            "irsa_role_arn": "arn:aws:iam::1:role/mlflow",
            "region": "us-east-1",
            "ingress": ingress_settings("acme-ml", AWS.platform.ingress, on_aws=True),
        }
        if auth == "oidc":
            onprem = IngressSpec(class_name="nginx", cluster_issuer="corp-ca")
            extra = {
                "ingress": ingress_settings("acme-ml", onprem, on_aws=False),
                "s3_keys": S3Keys(pulumi.Output.secret("AKIAFAKE"), pulumi.Output.secret("s3-Secret1")),
                "s3_endpoint_url": "https://minio.corp.example:9000",
                "oidc": OidcSettings("https://sso.example", "mlflow", pulumi.Output.secret("oidc-Secret1")),
                "shipyard_image": SHIPYARD_IMAGE,
                "client_namespaces": ("fraud", "search"),
            }
        m = Mlflow(
            "mlflow", MlflowArgs("acme-ml", "shipyard-system", spec, SECRET_URI, "s3://b/artifacts", **extra)
        )
        return {"url": m.url, "adminPassword": m.admin_password}

    return build


def _registry(oidc_issuer_url: str | None = None, **spec_fields: Any) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        spec = AWS.services.registry.model_copy(update={"storage": "7Gi", **spec_fields})
        r = Registry(
            "registry",
            RegistryArgs(
                "acme-ml",
                "shipyard-system",
                spec,
                (REPO / "examples/platform.aws.yaml").read_text(),
                "http://mlflow.shipyard-system.svc.cluster.local",
                image=SHIPYARD_IMAGE,
                client_namespaces=("fraud", "search"),
                oidc_issuer_url=oidc_issuer_url,
            ),
        )
        return {"url": r.url}

    return build


def _portal(
    url: str | None, audit_database_secret: str | None = None, oidc: bool = False
) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        # under OIDC: the on-prem ingress (nginx, cert-manager) and the same OIDC settings as MLflow's
        onprem = IngressSpec(class_name="nginx", cluster_issuer="corp-ca")
        ingress = ingress_settings("acme-ml", onprem if oidc else AWS.platform.ingress, on_aws=not oidc)
        settings = OidcSettings("https://sso.example", "mlflow", pulumi.Output.secret("oidc-Secret1"))
        p = Portal(
            "portal",
            PortalArgs(
                "acme-ml",
                "aws",
                "shipyard-system",
                AWS.services.portal.model_copy(update={"url": url}),
                SHIPYARD_IMAGE,
                (REPO / "examples/platform.aws.yaml").read_text(),
                "http://mlflow.shipyard-system.svc.cluster.local",
                {
                    "SHIPYARD_REGISTRY_URL": "http://registry.shipyard-system.svc.cluster.local",
                    "SHIPYARD_PROMETHEUS_URL": "https://prometheus.corp.example:9443",  # outside the cluster
                },
                monitoring_namespace="shipyard-monitoring",
                ingress=ingress,
                audit_database_secret=audit_database_secret,
                oidc=settings if oidc else None,
            ),
        )
        return {"url": p.url}

    return build


def label_studio() -> dict[str, Any]:
    pg = PostgresEndpoint("db", 5432, "label_studio", "label_studio", pulumi.Output.secret("pw-Secret1"))
    ls = LabelStudio(
        "label-studio",
        LabelStudioArgs(
            "acme-ml",
            "shipyard-system",
            AWS.services.label_studio,
            pg,
            "acme-ml-label-studio",
            region="us-east-1",
            irsa_role_arn="arn:aws:iam::1:role/ls",
        ),
    )
    return {"url": ls.url}


def monitoring() -> dict[str, Any]:
    m = Monitoring(
        "monitoring",
        MonitoringArgs(
            "acme-ml",
            "shipyard-monitoring",
            AWS.services.prometheus,
            AWS.services.grafana,
            AWS.governance.risk_tiers,
            teams=("fraud", "search"),
        ),  # fmt: skip
    )
    return {
        "grafana": m.grafana_url,
        "pushgateway": m.pushgateway_url,
        "grafanaAdminPassword": m.grafana_admin_password,
    }


def gpu() -> dict[str, Any]:
    GpuSupport("gpu", GpuSupportArgs("acme-ml", "shipyard-monitoring", ["nvidia-a10g"]))
    return {}


def namespaces() -> dict[str, Any]:
    ns = SystemNamespaces("namespaces", SystemNamespacesArgs("acme-ml"))
    return {"system": ns.system, "monitoring": ns.monitoring}


def _ci_runners(provider: str) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        settings = {
            "github": {"github": {"config_url": "https://github.com/acme", "secret": "arc-github"}},
            "gitlab": {"gitlab": {"url": "https://gitlab.acme.example/", "secret": "glrt"}},
            "none": {},
        }[provider]
        spec = CiRunnersSpec.model_validate({"provider": provider, **settings})
        c = CiRunners("ci-runners", CiRunnersArgs("acme-ml", spec, ("fraud", "search")))
        return {"teams": sorted(c.releases)}

    return build


CASES: dict[str, Callable[[], dict[str, Any]]] = {
    "network": network,
    "cluster": cluster,
    "cluster_addons": cluster_addons,
    "node_pool_gpu": _pool("gpu-a10g"),
    "node_pool_spot": _pool("cpu-work"),
    "database_prod": _database(dev=False),
    "database_dev": _database(dev=True),
    "bucket": bucket,
    "dvc_bucket_per_team": _dvc("bucket_per_team"),
    "dvc_prefix_per_team": _dvc("prefix_per_team"),
    "team_tenancy": team_tenancy,
    "mlflow_basic": _mlflow("basic"),
    "mlflow_oidc": _mlflow("oidc"),
    "registry": _registry(),
    "registry_postgres": _registry(audit_database_secret="shipyard-audit-db"),
    "registry_oidc": _registry(oidc_issuer_url="https://sso.example"),
    "portal": _portal("https://portal.acme.example"),
    "portal_internal": _portal(None),
    "portal_postgres_audit": _portal(None, audit_database_secret="shipyard-audit-db"),
    "portal_oidc": _portal("https://portal.acme.example", oidc=True),
    "label_studio": label_studio,
    "monitoring": monitoring,
    "gpu": gpu,
    "namespaces": namespaces,
    "ci_runners_github": _ci_runners("github"),
    "ci_runners_gitlab": _ci_runners("gitlab"),
    "ci_runners_none": _ci_runners("none"),
}
