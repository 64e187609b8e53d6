"""What a cluster platform (aws or kubernetes) needs that an embedded one does not.

``shipyard spec validate --target aws|kubernetes`` and infra's ``pulumi up`` both run these rules
(through :func:`shipyard.spec.loader.parse_spec`), so a spec one accepts the other accepts too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from shipyard.spec.fields import Environment
from shipyard.spec.model import PlatformSpec

Path = tuple[str | int, ...]
Support = Literal["standard", "extended", "ended", "unknown"]
MLFLOW_IMAGE_REPO = "ghcr.io/mlflow/mlflow"


@dataclass(frozen=True)
class EksVersion:
    released: dt.date
    end_of_standard: dt.date  # then extended support (priced higher) for 12 months
    end_of_extended: dt.date  # then AWS upgrades the cluster itself


# Amazon EKS Kubernetes release calendar (docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html):
# 14 months of standard support, then 12 of extended. Add a row when EKS releases a version.
EKS_VERSIONS: dict[str, EksVersion] = {
    "1.29": EksVersion(dt.date(2024, 1, 23), dt.date(2025, 3, 23), dt.date(2026, 3, 23)),
    "1.30": EksVersion(dt.date(2024, 5, 23), dt.date(2025, 7, 23), dt.date(2026, 7, 23)),
    "1.31": EksVersion(dt.date(2024, 9, 26), dt.date(2025, 11, 26), dt.date(2026, 11, 26)),
    "1.32": EksVersion(dt.date(2025, 1, 23), dt.date(2026, 3, 23), dt.date(2027, 3, 23)),
    "1.33": EksVersion(dt.date(2025, 5, 29), dt.date(2026, 7, 29), dt.date(2027, 7, 29)),
    "1.34": EksVersion(dt.date(2025, 10, 2), dt.date(2026, 12, 2), dt.date(2027, 12, 2)),
    "1.35": EksVersion(dt.date(2026, 1, 27), dt.date(2027, 3, 27), dt.date(2028, 3, 27)),
}


def eks_support(version: str, on: dt.date | None = None) -> Support:
    """Which EKS support window ``version`` is in on a day (today by default)."""
    row = EKS_VERSIONS.get(version)
    if row is None:
        return "unknown"
    day = on or dt.date.today()
    if day < row.end_of_standard:
        return "standard"
    return "extended" if day < row.end_of_extended else "ended"


def cluster_problems(
    spec: PlatformSpec, target: Environment, today: dt.date | None = None
) -> list[tuple[Path, str]]:
    """Every reason ``spec`` cannot be stood up on ``target``, as (field path, message)."""
    problems: list[tuple[Path, str]] = []
    s, cluster = spec.services, spec.platform.cluster

    def add(path: Path, message: str) -> None:
        problems.append((path, message))

    if target == Environment.local:
        add(("platform", "environment"), "infra stands up 'aws' or 'kubernetes' platforms, not 'local'")
        return problems
    if spec.platform.environment != target:
        add(
            ("platform", "environment"),
            f"is {spec.platform.environment.value!r} but the target is {target.value!r}",
        )
        return problems
    if s.mlflow.enabled:
        if s.mlflow.backend != "postgres":
            add(("services", "mlflow", "backend"), "a cluster needs backend: postgres (replicas share it)")
        if s.mlflow.artifacts != "s3":
            add(("services", "mlflow", "artifacts"), "a cluster needs artifacts: s3 (replicas share them)")
        if s.mlflow.replicas < 2:
            add(
                ("services", "mlflow", "replicas"),
                f"is {s.mlflow.replicas}: a cluster runs at least 2 (a node drain must not stop tracking)",
            )
        repo, _, tag = s.mlflow.image.rpartition(":")
        if repo == MLFLOW_IMAGE_REPO and not tag.endswith("-full"):
            add(
                ("services", "mlflow", "image"),
                f"{s.mlflow.image} lacks psycopg2, boto3 and the auth extras: use the {tag}-full tag",
            )
    if s.dvc.enabled and s.dvc.remote != "s3":
        add(("services", "dvc", "remote"), "a cluster needs an S3 remote (remote: s3)")
    if target == Environment.aws:
        problems += _eks_version(cluster.kubernetes_version, today)
        for i, team in enumerate(spec.teams):
            if team.cluster_principals and not team.group:
                add(("teams", i, "group"), "cluster_principals join the team's Kubernetes group: name it")
    else:
        if cluster.access:
            add(
                ("platform", "cluster", "access"),
                "access entries are EKS-only: bind groups with teams[].group",
            )
        for i, team in enumerate(spec.teams):
            if team.cluster_principals:
                add(
                    ("teams", i, "cluster_principals"),
                    "IAM principals are EKS-only: on an existing cluster teams[].group is bound",
                )
    problems += _ingress(spec, target)
    problems += _images(spec, target)
    return problems


def _images(spec: PlatformSpec, target: Environment) -> list[tuple[Path, str]]:
    """Where the images `pulumi up` builds go: ECR on aws, the named registry on an existing cluster."""
    registry = spec.platform.cluster.image_registry
    if target == Environment.aws and registry:
        return [
            (
                ("platform", "cluster", "image_registry"),
                "on aws the images go to ECR repositories the stack creates: leave it unset",
            )
        ]
    builds = spec.services.mlflow.enabled and not spec.services.registry.image
    builds = builds or spec.ci.runners.provider == "github"
    if target == Environment.kubernetes and builds and not registry:
        return [
            (
                ("platform", "cluster", "image_registry"),
                "pulumi up builds the shipyard image (and the CI runner's) and needs a registry the "
                "cluster pulls from: name it, or set services.registry.image to a prebuilt image by digest",
            )
        ]
    return []


def _eks_version(version: str, today: dt.date | None) -> list[tuple[Path, str]]:
    path: Path = ("platform", "cluster", "kubernetes_version")
    support = eks_support(version, today)
    newest = max(EKS_VERSIONS, key=lambda v: tuple(map(int, v.split("."))))
    if support == "unknown":
        return [
            (path, f"EKS {version} is not in Shipyard's EKS calendar (spec/cluster.py); newest: {newest}")
        ]
    if support == "ended":
        end = EKS_VERSIONS[version].end_of_extended
        return [(path, f"EKS {version} left extended support on {end}: AWS upgrades it; use {newest}")]
    return []


def _ingress(spec: PlatformSpec, target: Environment) -> list[tuple[Path, str]]:
    """Services with a url get an Ingress with TLS: the spec must say where the certificate comes from."""
    problems: list[tuple[Path, str]] = []
    ingress = spec.platform.ingress
    urls = {name: svc.url for name, svc in spec.services if name in EXPOSED and svc.enabled and svc.url}
    for name, url in urls.items():
        if not url.startswith("https://"):
            problems.append((("services", name, "url"), f"{url!r}: a cluster serves its services over https"))
    if not urls:
        return problems
    if target == Environment.aws and not ingress.certificate_arn:
        problems.append(
            (
                ("platform", "ingress", "certificate_arn"),
                "services have a url: name the ACM certificate for them",
            )
        )
    if target == Environment.kubernetes:
        if not ingress.class_name:
            problems.append(
                (("platform", "ingress", "class_name"), "services have a url: name the ingress class")
            )
        if not ingress.cluster_issuer:
            problems.append(
                (
                    ("platform", "ingress", "cluster_issuer"),
                    "services have a url: name the cert-manager issuer",
                )
            )
    return problems


EXPOSED = ("mlflow", "label_studio", "grafana", "portal")  # the services infra puts behind an Ingress
