"""Label Studio from HumanSignal's Helm chart (pinned), with external Postgres and S3 storage."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from shipyard.platform.env import (
    ENV_LABEL_STUDIO_NO_SIGNUP,
    ENV_LABEL_STUDIO_PASSWORD,
    ENV_LABEL_STUDIO_USERNAME,
)
from shipyard.spec.services import LabelStudioSpec

from components.common import LABEL_STUDIO_REPO, Component, child, container_resources, k8s_labels
from components.mlflow import S3Keys

RELEASE = "label-studio"
SERVICE_ACCOUNT = "label-studio"  # the app and its workers share it (IRSA binds to it)
CREDENTIALS = "label-studio-credentials"
ADMIN_USER = "admin@shipyard.local"  # Label Studio users are email addresses
S3_COMPATIBLE_REGION = "us-east-1"  # MinIO's default region (MINIO_REGION / site.region)


@dataclass(frozen=True)
class PostgresEndpoint:
    host: pulumi.Input[str]
    port: pulumi.Input[int]
    database: pulumi.Input[str]
    username: pulumi.Input[str]
    password: pulumi.Input[str]  # secret


@dataclass(frozen=True)
class LabelStudioArgs:
    platform: str
    namespace: str
    spec: LabelStudioSpec
    postgres: PostgresEndpoint
    bucket: str
    region: str | None = None
    s3_endpoint_url: str | None = None
    irsa_role_arn: pulumi.Input[str] | None = None
    s3_keys: S3Keys | None = None
    node_selector: dict[str, str] | None = None  # EKS: ON_DEMAND (never spot)
    tolerations: tuple[dict[str, str], ...] = ()  # the platform pool's taint (PLATFORM_TOLERATION)


class LabelStudio(Component):
    url: str

    def __init__(self, name: str, args: LabelStudioArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:infra:LabelStudio", name, opts)
        labels = k8s_labels(args.platform, "label-studio")
        # the first user (Label Studio creates it at start from these two); signup stays closed
        admin = random.RandomPassword(f"{name}-admin", length=24, special=False, opts=child(self))
        self.admin_password = pulumi.Output.secret(admin.result)
        data: dict[str, pulumi.Input[str]] = {
            "pg-password": args.postgres.password,
            "admin-username": ADMIN_USER,
            "admin-password": admin.result,
        }
        if args.s3_keys:
            data |= {
                "s3-access-key": args.s3_keys.access_key_id,
                "s3-secret-key": args.s3_keys.secret_access_key,
            }
        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata={"name": CREDENTIALS, "namespace": args.namespace, "labels": labels},
            type="Opaque",
            string_data=pulumi.Output.secret(data),
            opts=child(self),
        )
        # urlExpirationSecs: the chart's schema wants a string (an integer fails `helm install`)
        s3: dict[str, object] = {"bucket": args.bucket, "folder": "label-studio", "urlExpirationSecs": "3600"}
        # the chart fails `helm install` on S3 persistence without a region (its configuration check
        # in NOTES.txt); an S3-compatible store (MinIO) signs with its own, us-east-1 unless configured
        s3["region"] = args.region or S3_COMPATIBLE_REGION
        if args.s3_endpoint_url:
            s3["endpointUrl"] = args.s3_endpoint_url
        if args.s3_keys:
            s3 |= {
                "accessKeyExistingSecret": CREDENTIALS,
                "accessKeyExistingSecretKey": "s3-access-key",
                "secretKeyExistingSecret": CREDENTIALS,
                "secretKeyExistingSecretKey": "s3-secret-key",
            }
        annotations = {"eks.amazonaws.com/role-arn": args.irsa_role_arn} if args.irsa_role_arn else {}
        app_sa = {"create": True, "name": SERVICE_ACCOUNT, "annotations": annotations}
        values = {
            "global": {
                "image": {"repository": "heartexlabs/label-studio", "tag": args.spec.version},
                "pgConfig": {
                    "host": args.postgres.host,
                    "port": args.postgres.port,
                    "dbName": args.postgres.database,
                    "userName": args.postgres.username,
                    "password": {"secretName": CREDENTIALS, "secretKey": "pg-password"},
                },
                "persistence": {"enabled": True, "type": "s3", "config": {"s3": s3}},
                "extraEnvironmentVars": {ENV_LABEL_STUDIO_NO_SIGNUP: "true"},
                "extraEnvironmentSecrets": {
                    ENV_LABEL_STUDIO_USERNAME: {"secretName": CREDENTIALS, "secretKey": "admin-username"},
                    ENV_LABEL_STUDIO_PASSWORD: {"secretName": CREDENTIALS, "secretKey": "admin-password"},
                },
            },
            "postgresql": {"enabled": False},
            "app": {
                "replicas": 2,
                "resources": container_resources("500m", "1Gi", "2"),
                "serviceAccount": app_sa,
                "nodeSelector": args.node_selector or {},
                "tolerations": list(args.tolerations),
                "podLabels": labels,
            },
            "rqworker": {
                "serviceAccount": {"create": False, "name": SERVICE_ACCOUNT},
                "nodeSelector": args.node_selector or {},
                "tolerations": list(args.tolerations),
                "resources": container_resources("250m", "512Mi", "1"),
            },
        }
        self.release = k8s.helm.v3.Release(
            f"{name}-release",
            name=RELEASE,
            chart="label-studio",
            version=args.spec.chart_version,
            repository_opts={"repo": LABEL_STUDIO_REPO},
            namespace=args.namespace,
            values=values,
            atomic=True,
            timeout=900,
            opts=child(self, depends_on=[secret]),
        )
        self.service_url = f"http://{RELEASE}-ls-app.{args.namespace}.svc.cluster.local"
        self.url = args.spec.url or self.service_url
        self.register_outputs(
            {"url": self.url, "chartVersion": args.spec.chart_version, "adminPassword": self.admin_password}
        )
