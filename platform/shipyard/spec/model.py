"""The platform spec: one typed description of a Shipyard platform.

Loaded from ``platform.yaml`` by :mod:`shipyard.spec.loader`. Infra, the CLI, the local
runtime, the template and the portal all read this model; nothing else describes a platform.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from shipyard.spec import default_prices as prices
from shipyard.spec.labels import GPU_TAINT_KEY, LABEL_GPU_TYPE, LABEL_POOL

NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$"  # a DNS label: usable as namespace and tag
Name = Annotated[str, Field(pattern=NAME_PATTERN, description="lowercase letters, digits and '-'")]
PositiveMoney = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Price = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Port = Annotated[int, Field(ge=1, le=65535)]
# an address a person types: no markup, quotes or spaces (the portal shows it, a shell may see it)
EMAIL = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$")
HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
# a Kubernetes object name (DNS subdomain), e.g. a Secret's
K8S_NAME_PATTERN = r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$"  # a Kubernetes object name (pydantic)
SECRET_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
URL = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%/+\-]*)?$")
# an MLflow metric name that is also safe in a shell word, a file name and a Prometheus label value
METRIC_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$")
# metrics whose values lie in [0, 1]: a gate outside that range can never (or always) pass
UNIT_METRICS = {"accuracy", "precision", "recall", "f1", "auc", "roc_auc", "pr_auc", "balanced_accuracy"}
NON_NEGATIVE_METRICS = {"rmse", "mse", "mae", "log_loss", "mape"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_as_number(cls, value: object, info: ValidationInfo) -> object:
        """YAML's true/false is never a number: pydantic would take `ports.mlflow: true` as port 1."""
        field = cls.model_fields.get(info.field_name or "")
        if field is None or _admits_bool(field.annotation):
            return value
        origin = get_origin(field.annotation)  # a list or dict of numbers: its items too (not a model's)
        items = list(value) if origin is list and isinstance(value, list) else []
        if origin is dict and isinstance(value, dict):
            items = list(value.values())
        if isinstance(value, bool) or any(isinstance(v, bool) for v in items):
            raise ValueError(f"expected {_expected(field.annotation)}, got a boolean (true/false)")
        return value


def _admits_bool(annotation: object) -> bool:
    """Whether a field's type takes a bool anywhere (bool itself, a Literal of one, an Any)."""
    if annotation is bool or annotation is Any:
        return True
    if get_origin(annotation) is Literal:
        return any(isinstance(arg, bool) for arg in get_args(annotation))
    return any(_admits_bool(arg) for arg in get_args(annotation))


def _expected(annotation: object) -> str:
    text = str(annotation)
    if "int" in text or "float" in text:
        return "a number"
    return "text" if "str" in text else "a value of the field's type"


class Environment(StrEnum):
    local = "local"
    aws = "aws"
    kubernetes = "kubernetes"


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


# --- teams ------------------------------------------------------------------------------------


class Quota(Strict):
    cpu: str = "16"
    memory: str = "64Gi"
    gpus: int = Field(0, ge=0)

    @field_validator("cpu", "memory", mode="before")
    @classmethod
    def _quantity(cls, value: object) -> str:
        text = str(value)
        if isinstance(value, bool) or not QUANTITY.match(text):
            raise ValueError(f"expected a Kubernetes quantity such as '8', '500m' or '64Gi', got {value!r}")
        if float(re.sub(r"[a-zA-Z]+$", "", text)) <= 0:
            raise ValueError(f"must be greater than zero, got {value!r}")
        return text


class Team(Strict):
    name: Name
    owners: list[str] = Field(min_length=1)
    members: list[str] = Field([], description="data scientists of the team (emails); owners are members too")
    group: str | None = Field(None, description="identity-provider group bound to the namespace")
    monthly_budget: PositiveMoney
    quota: Quota = Quota()
    cluster_principals: list[Annotated[str, Field(pattern=IAM_PRINCIPAL)]] = Field(
        [], description="aws: IAM roles of the team's people, let into the cluster as its group"
    )

    @field_validator("owners", "members")
    @classmethod
    def _emails(cls, owners: list[str]) -> list[str]:
        for owner in owners:
            if not EMAIL.match(owner):
                raise ValueError(f"{owner!r} is not an email address")
        return owners


# --- node pools -------------------------------------------------------------------------------


class Taint(Strict):
    key: str
    value: str = "true"
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"


class NodePool(Strict):
    name: Name
    instance_types: list[str] = Field(min_length=1)
    min_size: int = Field(ge=0)
    max_size: int = Field(gt=0)
    desired_size: int | None = Field(None, ge=0)
    gpus_per_node: int = Field(0, ge=0)
    gpu_type: str | None = None
    capacity: Literal["on_demand", "spot"] = "on_demand"
    disk_gb: int = Field(100, gt=0)
    labels: dict[str, str] = {}
    taints: list[Taint] | None = Field(
        None, description="omit for defaults; GPU pools get nvidia.com/gpu:NoSchedule unless set explicitly"
    )
    teams: list[str] = Field([], description="teams that may schedule here; empty means all")

    @model_validator(mode="after")
    def _sizes_and_gpus(self) -> NodePool:
        if self.min_size > self.max_size:
            raise ValueError(f"min_size ({self.min_size}) is greater than max_size ({self.max_size})")
        if self.desired_size is not None and not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"desired_size ({self.desired_size}) must lie between min_size and max_size "
                f"({self.min_size}..{self.max_size})"
            )
        if self.gpus_per_node and not self.gpu_type:
            raise ValueError("a GPU pool (gpus_per_node > 0) needs gpu_type, e.g. gpu_type: nvidia-a10g")
        if self.gpu_type and not self.gpus_per_node:
            raise ValueError("gpu_type is set but gpus_per_node is 0: set gpus_per_node to the GPUs per node")
        return self

    @property
    def is_gpu(self) -> bool:
        return self.gpus_per_node > 0

    @property
    def effective_taints(self) -> list[Taint]:
        """The taints infra applies: explicit ones, else the GPU taint for GPU pools."""
        if self.taints is not None:
            return list(self.taints)
        return [Taint(key=GPU_TAINT_KEY)] if self.is_gpu else []

    @property
    def effective_labels(self) -> dict[str, str]:
        labels = {LABEL_POOL: self.name, **self.labels}
        if self.is_gpu:
            labels.setdefault(LABEL_GPU_TYPE, str(self.gpu_type))
        return labels

    @property
    def effective_desired_size(self) -> int:
        return self.min_size if self.desired_size is None else self.desired_size


# --- pricing ----------------------------------------------------------------------------------


DEFAULT_CURRENCY = "USD"


class Pricing(Strict):
    """A dated price table. Omit ``pricing`` in a spec to use the built-in AWS us-east-1 table."""

    as_of: dt.date = dt.date.fromisoformat(prices.AS_OF)
    source: str = Field(prices.SOURCE, min_length=1)
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    instance_hour: dict[str, Price] = Field(
        prices.INSTANCE_HOUR, description="on-demand price per instance type per hour"
    )
    spot_discount: float = Field(0.65, ge=0, lt=1, description="fraction saved on spot capacity")
    gpu_hour: dict[str, Price] = Field(prices.GPU_HOUR, description="price per GPU hour by GPU type")
    storage_gb_month: Price = prices.STORAGE_GB_MONTH
    block_storage_gb_month: Price = prices.BLOCK_STORAGE_GB_MONTH
    database_hour: dict[str, Price] = prices.DATABASE_HOUR
    database_storage_gb_month: Price = prices.DATABASE_STORAGE_GB_MONTH
    control_plane_hour: Price = prices.CONTROL_PLANE_HOUR
    control_plane_extended_hour: Price = Field(
        prices.CONTROL_PLANE_EXTENDED_HOUR, description="EKS: a version in extended support"
    )
    nat_gateway_hour: Price = prices.NAT_GATEWAY_HOUR
    load_balancer_hour: Price = prices.LOAD_BALANCER_HOUR

    @model_validator(mode="after")
    def _no_mixed_currency_defaults(self) -> Pricing:
        # The built-in table is in USD: a table in another currency must not silently borrow from it.
        if self.currency != DEFAULT_CURRENCY:
            missing = [
                name
                for name in type(self).model_fields
                # control_plane_extended_hour is EKS-only: checked against the platform (PlatformSpec)
                if name not in ("as_of", "source", "currency", "spot_discount", "control_plane_extended_hour")
                and name not in self.model_fields_set
            ]
            if missing:
                raise ValueError(
                    f"a price table in {self.currency} must set every price itself (the built-in table is "
                    f"{DEFAULT_CURRENCY}); missing: {', '.join(missing)}"
                )
        return self

    def instance_price(self, instance_type: str, capacity: str = "on_demand") -> float:
        try:
            price = self.instance_hour[instance_type]
        except KeyError:
            raise KeyError(instance_type) from None
        return price * (1 - self.spot_discount) if capacity == "spot" else price


# --- governance -------------------------------------------------------------------------------


class RiskTier(Strict):
    approval_required: bool = False
    min_approvers: int = Field(0, ge=0)
    drift_monitoring_required: bool = False
    model_card_required: bool = True
    max_drift_share: float = Field(0.3, gt=0, le=1)

    @model_validator(mode="after")
    def _approvers(self) -> RiskTier:
        if self.approval_required and self.min_approvers < 1:
            raise ValueError("approval_required is true, so min_approvers must be at least 1")
        return self


class MetricGate(Strict):
    metric: str = Field(pattern=METRIC_NAME.pattern, description="an MLflow metric name")
    min: float | None = Field(None, allow_inf_nan=False)
    max: float | None = Field(None, allow_inf_nan=False)

    @model_validator(mode="after")
    def _bounds(self) -> MetricGate:
        if self.min is None and self.max is None:
            raise ValueError(f"the gate on {self.metric!r} sets neither min nor max: set at least one")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max}): no model could pass")
        low, high = (0.0, 1.0) if self.metric in UNIT_METRICS else (0.0, None)
        if self.metric in UNIT_METRICS or self.metric in NON_NEGATIVE_METRICS:
            for bound in (self.min, self.max):
                if bound is not None and (bound < low or (high is not None and bound > high)):
                    where = f"{low}..{high}" if high is not None else f">= {low}"
                    raise ValueError(f"{bound} is outside the range of {self.metric} ({where})")
        return self


class GovernancePeople(Strict):
    """Who governs models: signed-in identities, never free text (see docs/manager-auditor.md)."""

    approvers: list[str] = Field([], description="validators: approve model versions of other teams")
    auditors: list[str] = Field([], description="read everything, export the audit log")
    managers: list[str] = Field([], description="see costs and status, promote approved versions")
    platform_admins: list[str] = Field([], description="run the platform; MLflow admins")

    @field_validator("approvers", "auditors", "managers", "platform_admins")
    @classmethod
    def _emails(cls, emails: list[str]) -> list[str]:
        seen: set[str] = set()
        for email in emails:
            if not EMAIL.match(email):
                raise ValueError(f"{email!r} is not an email address")
            if email.lower() in seen:
                raise ValueError(f"{email!r} appears twice")
            seen.add(email.lower())
        return emails


class Governance(Strict):
    people: GovernancePeople = GovernancePeople()
    risk_tiers: dict[Literal["low", "medium", "high"], RiskTier] = {
        "low": RiskTier(),
        "medium": RiskTier(drift_monitoring_required=True),
        "high": RiskTier(approval_required=True, min_approvers=2, drift_monitoring_required=True),
    }
    gates: list[MetricGate] = [MetricGate(metric="accuracy", min=0.7)]
    champion_tolerance: float = Field(0.01, ge=0, description="how much worse than champion a model may be")


# --- local (embedded) runtime -----------------------------------------------------------------


class LocalPorts(Strict):
    mlflow: Port = 5000
    label_studio: Port = 8080
    prometheus: Port = 9090
    pushgateway: Port = 9091
    portal: Port = 8501
    package_index: Port = 3141
    registry: Port = 5100


class Retention(Strict):
    """How long the embedded platform keeps what runs leave behind (the CI runner tidies every 10 min)."""

    ci_runs_days: int = Field(
        30, ge=1, le=3650, description="days a finished CI run's job file and log stay under <data dir>/ci"
    )
    log_max_mb: int = Field(50, ge=1, le=10_240, description="a service log larger than this is rotated")
    logs_kept: int = Field(3, ge=1, le=50, description="rotated copies kept of each service log")


class LocalSpec(Strict):
    host: str = Field("127.0.0.1", description="an IP address or a hostname the services listen on")
    data_dir: str | None = Field(None, description="default: $SHIPYARD_HOME, else ~/.shipyard")
    ports: LocalPorts = LocalPorts()
    label_studio: bool = Field(True, description="start Label Studio (heavy: ~1 GB venv on first up)")
    prometheus: bool = True
    portal: bool = True
    retention: Retention = Retention()
    instance_type: str = Field(
        "m6i.large",
        description="price the embedded machine's runs as this instance type (costs show what the work "
        "would cost on the cloud); must be in pricing.instance_hour",
    )

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
            return value
        except ValueError:
            pass
        if not HOSTNAME.match(value):
            raise ValueError(f"{value!r} is neither an IP address nor a hostname (e.g. 127.0.0.1)")
        return value

    @field_validator("data_dir")
    @classmethod
    def _data_dir(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if any(ord(c) < 32 or c == "\x7f" for c in value):
            raise ValueError("contains control characters (a newline?)")
        parts = value.replace("\\", "/").split("/")
        if ".." in parts:
            raise ValueError(f"{value!r} contains '..': give the data dir's own path")
        if value.strip("/") == "" or value in ("~", "~/"):
            raise ValueError(f"{value!r} is a whole file system or home: use a folder of its own")
        return value

    @model_validator(mode="after")
    def _distinct_ports(self) -> LocalSpec:
        seen: dict[int, str] = {}
        for service, port in self.ports.model_dump().items():
            if port in seen:
                raise ValueError(f"ports.{service} and ports.{seen[port]} are both {port}: give each its own")
            seen[port] = service
        return self


# --- CI runners -------------------------------------------------------------------------------


GITHUB_CONFIG_URL = (
    r"^https://[A-Za-z0-9.\-]+(:[0-9]{1,5})?/(enterprises/)?[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)?/?$"
)


class RunnerScale(Strict):
    """How many runners a team's runner set keeps idle (min, 0 allowed) and runs at most (max)."""

    min_runners: int = Field(0, ge=0)
    max_runners: int = Field(3, ge=1, le=100)

    @model_validator(mode="after")
    def _range(self) -> RunnerScale:
        if self.min_runners > self.max_runners:
            raise ValueError(
                f"min_runners ({self.min_runners}) is greater than max_runners ({self.max_runners}): "
                "lower min_runners or raise max_runners"
            )
        return self


class GithubRunners(Strict):
    """actions-runner-controller: one runner scale set per team, registered at ``config_url``."""

    config_url: str = Field(
        pattern=GITHUB_CONFIG_URL,
        description="githubConfigUrl: https://github.com/ORG, https://github.com/ORG/REPO or "
        "https://github.com/enterprises/ENTERPRISE (or the GitHub Enterprise Server host)",
    )
    secret: str = Field(
        pattern=K8S_NAME_PATTERN,
        description="name of an existing Secret in every team namespace with the GitHub App "
        "(github_app_id, github_app_installation_id, github_app_private_key) or a PAT (github_token)",
    )
    runner_group: str | None = Field(None, description="GitHub runner group; default: the Default group")


class GitlabRunners(Strict):
    """The gitlab-runner chart: one runner (Kubernetes executor) per team."""

    url: ServiceUrl = Field(description="the GitLab instance, e.g. https://gitlab.example.com/")
    secret: str = Field(
        pattern=K8S_NAME_PATTERN,
        description="name of an existing Secret in every team namespace holding that team's runner "
        "authentication token (key runner-token, a glrt-... token of a runner tagged shipyard-<team>)",
    )


class CiRunners(Strict):
    provider: Literal["github", "gitlab", "none"] = "none"
    github: GithubRunners | None = None
    gitlab: GitlabRunners | None = None
    scale: RunnerScale = RunnerScale()
    teams: dict[str, RunnerScale] = Field({}, description="per-team scale, overriding scale")

    @model_validator(mode="after")
    def _provider_settings(self) -> CiRunners:
        if self.provider == "github" and self.github is None:
            raise ValueError(
                "provider github needs github: {config_url: https://github.com/ORG, secret: SECRET-NAME}"
            )
        if self.provider == "gitlab" and self.gitlab is None:
            raise ValueError(
                "provider gitlab needs gitlab: {url: https://gitlab.example.com/, secret: SECRET-NAME}"
            )
        return self

    def scale_of(self, team: str) -> RunnerScale:
        return self.teams.get(team, self.scale)

    @property
    def service_url(self) -> str | None:
        """Where the runners register: the GitHub org/repo URL or the GitLab instance."""
        if self.provider == "github" and self.github:
            return self.github.config_url
        if self.provider == "gitlab" and self.gitlab:
            return self.gitlab.url
        return None

    def label(self, team: str) -> str | None:
        """What a team's CI jobs select: the runner scale set name (GitHub) or tag (GitLab)."""
        return None if self.provider == "none" else f"shipyard-{team}"


class CiSpec(Strict):
    runners: CiRunners = CiRunners()


# --- the whole spec ---------------------------------------------------------------------------


class PlatformSpec(Strict):
    platform: PlatformInfo
    services: Services = Services()
    teams: list[Team] = Field(min_length=1)
    node_pools: list[NodePool] = []
    pricing: Pricing = Pricing()
    governance: Governance = Governance()
    local: LocalSpec = LocalSpec()
    ci: CiSpec = CiSpec()

    @model_validator(mode="after")
    def _cross_references(self) -> PlatformSpec:
        _unique("teams", [t.name for t in self.teams])
        _unique("node_pools", [p.name for p in self.node_pools])
        team_names = {t.name for t in self.teams}
        for i, pool in enumerate(self.node_pools):
            for team in pool.teams:
                if team not in team_names:
                    raise SpecReferenceError(
                        ("node_pools", i, "teams"),
                        f"team {team!r} is not defined in teams (known: {', '.join(sorted(team_names))})",
                    )
        if self.platform.environment != Environment.local:
            for i, pool in enumerate(self.node_pools):
                for instance_type in pool.instance_types:
                    if instance_type not in self.pricing.instance_hour:
                        raise SpecReferenceError(
                            ("node_pools", i, "instance_types"),
                            f"instance type {instance_type!r} has no price in pricing.instance_hour",
                        )
        if self.local.instance_type not in self.pricing.instance_hour:
            raise SpecReferenceError(
                ("local", "instance_type"),
                f"instance type {self.local.instance_type!r} has no price in pricing.instance_hour",
            )
        if self.pricing.currency != self.platform.currency:
            raise SpecReferenceError(
                ("pricing", "currency"),
                f"pricing.currency {self.pricing.currency!r} differs from platform.currency "
                f"{self.platform.currency!r}: budgets and prices must share one currency",
            )
        mlflow_db = self.services.mlflow.backend == "postgres" and self.services.mlflow.enabled
        if self.platform.environment == Environment.aws and (mlflow_db or self.services.label_studio.enabled):
            if self.services.mlflow.database_instance not in self.pricing.database_hour:
                raise SpecReferenceError(
                    ("services", "mlflow", "database_instance"),
                    f"database instance {self.services.mlflow.database_instance!r} has no price in "
                    "pricing.database_hour",
                )
        if (
            self.platform.environment == Environment.aws
            and self.pricing.currency != DEFAULT_CURRENCY
            and "control_plane_extended_hour" not in self.pricing.model_fields_set
        ):
            raise SpecReferenceError(
                ("pricing", "control_plane_extended_hour"),
                f"a price table in {self.pricing.currency} for EKS must set control_plane_extended_hour",
            )
        if self.platform.environment == Environment.local and self.services.registry.audit_database_secret:
            raise SpecReferenceError(
                ("services", "registry", "audit_database_secret"),
                "an audit database Secret is for a cluster (environment aws or kubernetes): on one machine "
                "the audit log is SQLite under the data dir, or set SHIPYARD_AUDIT_DATABASE_URL",
            )
        for team in self.ci.runners.teams:
            if team not in team_names:
                raise SpecReferenceError(
                    ("ci", "runners", "teams", team),
                    f"team {team!r} is not defined in teams (known: {', '.join(sorted(team_names))})",
                )
        if self.ci.runners.provider != "none" and self.platform.environment == Environment.local:
            raise SpecReferenceError(
                ("ci", "runners", "provider"),
                "in-cluster CI runners need a cluster platform (environment aws or kubernetes): "
                "set provider: none on a local platform",
            )
        if self.platform.environment != Environment.local and not self.node_pools:
            raise SpecReferenceError(("node_pools",), "a cluster platform needs at least one node pool")
        if "people" in self.governance.model_fields_set:
            self._enough_approvers()
        return self

    def _enough_approvers(self) -> None:
        """Each team needs as many approvers outside it as the strictest tier asks (four eyes)."""
        needed = max(
            (t.min_approvers for t in self.governance.risk_tiers.values() if t.approval_required), default=0
        )
        approvers = {e.lower() for e in self.governance.people.approvers}
        for team in self.teams:
            inside = {e.lower() for e in (*team.owners, *team.members)}
            independent = approvers - inside
            if len(independent) < needed:
                raise SpecReferenceError(
                    ("governance", "people", "approvers"),
                    f"team {team.name!r} has {len(independent)} approver(s) outside it, but the strictest "
                    f"risk tier needs {needed} distinct approvers who are not in the project's team",
                )

    def team(self, name: str) -> Team:
        for team in self.teams:
            if team.name == name:
                return team
        known = ", ".join(t.name for t in self.teams)
        raise KeyError(f"team {name!r} is not in the platform spec (known: {known})")

    @property
    def gpu_pools(self) -> list[NodePool]:
        return [p for p in self.node_pools if p.is_gpu]


class SpecReferenceError(ValueError):
    """A cross-field problem that belongs to a specific path (so the loader can point at its line)."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path


def _unique(field: str, names: list[str]) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise SpecReferenceError(
                (field, i, "name"), f"{name!r} appears twice in {field}: names must be unique"
            )
        seen.add(name)
