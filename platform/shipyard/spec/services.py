"""The platform's services (MLflow, registry, DVC, Label Studio, Prometheus, ...) and the call policy."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from shipyard.spec.fields import QUANTITY, SECRET_NAME, URL, Strict

# --- services ---------------------------------------------------------------------------------


ServiceUrl = Annotated[
    str, Field(pattern=URL.pattern, description="http(s)://host[:port][/path], no spaces or quotes")
]


class MlflowSpec(Strict):
    enabled: bool = True
    url: ServiceUrl | None = Field(None, description="tracking URL clients use; derived for local")
    image: str = "ghcr.io/mlflow/mlflow:v3.17.2-full"  # -full: DB drivers, boto3, auth
    replicas: int = Field(2, ge=1)
    backend: Literal["sqlite", "postgres"] = "sqlite"
    artifacts: Literal["local", "s3"] = "local"
    auth: Literal["basic", "oidc"] = "basic"
    database_instance: str = "db.t4g.medium"


SHIPYARD_IMAGE_VERSION = "0.1.0"  # the shipyard package's version (pyproject.toml); a test keeps them equal


class RegistrySpec(Strict):
    """The registry service on a cluster (on one machine `shipyard up` runs it from the venv). It runs
    when MLflow does, as MLflow's `shipyard-registry` account."""

    image: str | None = Field(
        None,
        pattern=r"^[^\s@]+@sha256:[0-9a-f]{64}$",
        description="a prebuilt shipyard image, by digest (the release workflow's); unset: `pulumi up` "
        "builds infra/images/shipyard/Dockerfile into the cluster's registry (ECR on aws, "
        "platform.cluster.image_registry on an existing cluster)",
    )
    storage: str = Field(
        "5Gi", pattern=QUANTITY.pattern, description="the audit log's volume (SQLite, ReadWriteOnce)"
    )
    audit_database_secret: str | None = Field(
        None,
        description="cluster: the Kubernetes Secret (in the platform's namespace) whose key `url` holds a "
        "postgresql:// URL; the audit log then lives in that Postgres database, not on a volume",
    )

    @field_validator("audit_database_secret")
    @classmethod
    def _secret_name(cls, name: str | None) -> str | None:
        if name is not None and ("://" in name or "@" in name):  # a pasted URL: never echo its password
            raise ValueError(
                "looks like a database URL: name the Kubernetes Secret that holds it instead (key `url`), "
                "e.g. kubectl create secret generic shipyard-audit-db --from-literal=url=postgresql://..."
            )
        if name is not None and not SECRET_NAME.match(name):
            raise ValueError(
                f"{name!r} is not a Kubernetes Secret name: use lowercase letters, digits, '-' and '.' "
                "(at most 253), e.g. shipyard-audit-db; the URL itself goes in the Secret's key `url`, "
                "never in the spec"
            )
        return name


class DvcSpec(Strict):
    enabled: bool = True
    remote: Literal["local", "s3"] = "local"
    layout: Literal["bucket_per_team", "prefix_per_team"] = "prefix_per_team"
    bucket: str | None = Field(None, description="S3 bucket (prefix_per_team) or bucket name prefix")
    endpoint_url: ServiceUrl | None = Field(None, description="S3-compatible endpoint, e.g. MinIO on-prem")
    noncurrent_version_days: int = Field(30, ge=1)


class LabelStudioSpec(Strict):
    enabled: bool = True
    url: ServiceUrl | None = None
    chart_version: str = "2.0.5"  # appVersion 1.23.0: the chart of the app version below
    version: str = "1.23.2"


class PrometheusSpec(Strict):
    enabled: bool = True
    url: ServiceUrl | None = None
    pushgateway_url: ServiceUrl | None = None
    chart_version: str = "75.15.1"
    retention_days: int = Field(15, ge=1)


class GrafanaSpec(Strict):
    enabled: bool = True
    url: ServiceUrl | None = None


class PortalSpec(Strict):
    enabled: bool = True
    url: ServiceUrl | None = None


class TemplateSpec(Strict):
    url: str | None = Field(
        None,
        description="git URL of the published project template (cluster platforms); "
        "the embedded platform hosts it under <data dir>/git/_template.git",
    )
    image_registry: str | None = Field(
        None, description="registry the GPU option's training images go to (`make image`), e.g. an ECR URL"
    )


class PackageIndexSpec(Strict):
    """Where projects' CI installs the ``shipyard`` client from (and nothing else from)."""

    enabled: bool = True
    url: str | None = Field(
        None,
        description="the simple index (PEP 503) serving the platform's shipyard wheel, e.g. "
        "https://pypi.internal.example.com/simple/; derived for local (shipyard up serves one)",
    )


class ServiceCalls(Strict):
    """The one timeout policy of every call to a platform service: the CLI, the portal, the registry
    client and CI jobs' MLflow client (``$SHIPYARD_SERVICE_TIMEOUT`` / ``_RETRIES`` override it)."""

    timeout_seconds: float = Field(
        10, gt=0, le=600, allow_inf_nan=False, description="seconds one request may wait for an answer"
    )
    retries: int = Field(2, ge=0, le=10, description="tries again after a refused connection or a 5xx")
    scoring_timeout_seconds: float = Field(
        300,
        gt=0,
        le=3600,
        allow_inf_nan=False,
        description="seconds a registry submit may take (it loads and scores two models)",
    )


class Services(Strict):
    calls: ServiceCalls = ServiceCalls()
    mlflow: MlflowSpec = MlflowSpec()
    registry: RegistrySpec = RegistrySpec()
    dvc: DvcSpec = DvcSpec()
    label_studio: LabelStudioSpec = LabelStudioSpec()
    prometheus: PrometheusSpec = PrometheusSpec()
    grafana: GrafanaSpec = GrafanaSpec()
    portal: PortalSpec = PortalSpec()
    package_index: PackageIndexSpec = PackageIndexSpec()
    template: TemplateSpec = TemplateSpec()
