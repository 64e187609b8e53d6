"""The platform itself: name, environment, cluster, ingress, backups."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from shipyard.spec.fields import Environment, Name, Strict

# --- platform ---------------------------------------------------------------------------------


IAM_PRINCIPAL = r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]+$"


class ClusterAccess(Strict):
    """An IAM principal let into the EKS cluster (an access entry), e.g. the CI/deploy role."""

    principal_arn: str = Field(pattern=IAM_PRINCIPAL)
    access: Literal["admin", "view"] = "admin"


class ClusterSpec(Strict):
    name: Name = "shipyard"
    kubernetes_version: str = Field("1.35", pattern=r"^1\.[0-9]{2}$")
    kubeconfig_context: str | None = Field(None, description="existing cluster: the kubeconfig context")
    access: list[ClusterAccess] = Field([], description="aws: IAM principals with cluster access")
    gpu_operator: bool = Field(
        False, description="existing cluster: the NVIDIA GPU Operator already runs (no device plugin)"
    )
    image_registry: str | None = Field(
        None,
        pattern=r"^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._/-]+)?$",
        description="existing cluster: the registry (host[/path]) `pulumi up` pushes the images it builds "
        "to (shipyard, the CI runner); its nodes must pull from it. aws: an ECR repository per image",
    )


class BackupSpec(Strict):
    """Backups of the databases the stack creates (aws: RDS for MLflow and Label Studio)."""

    retention_days: int = Field(
        14, ge=1, le=35, description="aws: RDS automated backups and point-in-time restore, in days (max 35)"
    )


class IngressSpec(Strict):
    """How services with a url are reached from outside the cluster (hosted CI, browsers)."""

    scheme: Literal["internal", "internet-facing"] = "internal"
    certificate_arn: str | None = Field(None, description="aws: ACM certificate for the service hosts")
    class_name: str | None = Field(None, description="kubernetes: the cluster's ingress class")
    cluster_issuer: str | None = Field(None, description="kubernetes: cert-manager ClusterIssuer for TLS")


class PlatformInfo(Strict):
    name: Name
    environment: Environment = Environment.local
    region: str | None = Field(None, description="cloud region, required for environment aws")
    cluster: ClusterSpec = ClusterSpec()
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    ingress: IngressSpec = IngressSpec()
    backups: BackupSpec = BackupSpec()

    @model_validator(mode="after")
    def _region_for_aws(self) -> PlatformInfo:
        if self.environment == Environment.aws and not self.region:
            raise ValueError("environment 'aws' needs a region, e.g. region: eu-west-1")
        return self
