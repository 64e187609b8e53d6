"""Storage: bytes in each project's DVC remote and MLflow artifact store, priced per GB-month.

Local directories (the embedded platform) are walked; ``s3://`` locations are listed with boto3
(one paged ``list_objects_v2`` per prefix); MLflow's proxied ``mlflow-artifacts:`` locations are
read from the server's artifacts directory when it is local (the embedded platform). A location
that cannot be read from here is reported as not measured instead of being guessed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from shipyard.costs.usage import team_of
from shipyard.platform.endpoints import Endpoints
from shipyard.spec.pricing import Pricing

GIB = 1024**3  # cloud storage bills a "GB" of 2^30 bytes


@dataclass(frozen=True)
class StorageUsage:
    team: str
    project: str
    store: str  # "dvc" | "artifacts"
    location: str
    bytes: int | None  # None: could not be measured

    def monthly_cost(self, pricing: Pricing) -> float:
        return storage_cost(self.bytes or 0, pricing)


def storage_cost(nbytes: int, pricing: Pricing) -> float:
    """One month of ``nbytes`` at ``pricing.storage_gb_month``."""
    return nbytes / GIB * pricing.storage_gb_month


def measure(
    endpoints: Endpoints, projects, s3_client=None, artifacts_root: Path | None = None
) -> list[StorageUsage]:
    """Bytes of every project's DVC remote and artifact store (``projects``: records.Project items).

    ``artifacts_root``: the directory behind MLflow's proxied ``mlflow-artifacts:`` locations (the
    server's ``--artifacts-destination``), when it is on this machine.
    """
    found = []
    for p in projects:
        team = team_of(p)
        remote = endpoints.dvc_remote(team, p.name)
        if remote:
            found.append(
                StorageUsage(team, p.name, "dvc", remote, location_bytes(remote, endpoints, s3_client))
            )
        if p.artifact_location:
            size = location_bytes(p.artifact_location, None, s3_client, artifacts_root)
            found.append(StorageUsage(team, p.name, "artifacts", p.artifact_location, size))
    return found


def location_bytes(
    location: str, endpoints: Endpoints | None = None, s3_client=None, artifacts_root: Path | None = None
) -> int | None:
    parsed = urlparse(location)
    if parsed.scheme == "mlflow-artifacts" and artifacts_root is not None:
        return directory_bytes(Path(artifacts_root) / parsed.path.lstrip("/"))
    if parsed.scheme == "s3":
        return s3_bytes(parsed.netloc, parsed.path.lstrip("/"), endpoints, s3_client)
    if parsed.scheme in ("", "file"):
        return directory_bytes(Path(parsed.path if parsed.scheme == "file" else location))
    return None


def directory_bytes(root: Path) -> int:
    """Sum of file sizes below ``root`` (0 when it does not exist yet); links are not followed."""
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_size
            except FileNotFoundError:  # removed while walking
                pass
    return total


def s3_bytes(
    bucket: str, prefix: str, endpoints: Endpoints | None = None, client=None, page_size: int = 1000
) -> int:
    if client is None:
        import boto3

        client = boto3.client("s3", endpoint_url=endpoints.dvc_endpoint_url if endpoints else None)
    prefix = prefix.rstrip("/") + "/" if prefix else ""
    total = 0
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": page_size}
    )
    for page in pages:
        total += sum(obj["Size"] for obj in page.get("Contents", []))
    return total
