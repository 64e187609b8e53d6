"""Monthly platform estimate from the spec alone: what ``pulumi up`` would create, priced by the
spec's dated price table, with every node pool at its minimum and maximum size.

Assumptions (stated in every estimate's ``assumptions``): a month is 730 hours (AWS's convention);
a node pool is priced at its first instance type; spot pools get ``spot_discount`` off on-demand;
each node has ``disk_gb`` of block storage. On AWS one EKS control plane, one NAT gateway and one
shared application load balancer; MLflow (backend postgres) and Label Studio each get a managed
database of ``services.mlflow.database_instance`` with 20 GB of storage. On an existing cluster the
databases are given as endpoints (not created), so none is priced; control plane and load balancer
use the table's prices (often 0 on-prem). Object storage is not known before deployment: it is
estimated at 100 GB per team until ``shipyard cost report`` measures the real bytes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from shipyard.spec.cluster import EXPOSED, eks_support
from shipyard.spec.fields import Environment
from shipyard.spec.model import PlatformSpec
from shipyard.spec.teams import NodePool

HOURS_PER_MONTH = 730
DATABASE_STORAGE_GB = 20
NAT_GATEWAYS = 1
LOAD_BALANCERS = 1
ASSUMED_OBJECT_GB_PER_TEAM = 100


@dataclass(frozen=True)
class EstimateLine:
    category: str  # cluster | node pool | gpu pool | database | network | storage | machine
    name: str
    detail: str
    min_monthly: float
    max_monthly: float


@dataclass(frozen=True)
class Estimate:
    platform: str
    environment: str
    currency: str
    price_date: dt.date
    price_source: str
    lines: list[EstimateLine]
    assumptions: list[str] = field(default_factory=list)

    @property
    def min_total(self) -> float:
        return round(sum(line.min_monthly for line in self.lines), 2)

    @property
    def max_total(self) -> float:
        return round(sum(line.max_monthly for line in self.lines), 2)

    @property
    def gpu_min(self) -> float:
        return round(sum(line.min_monthly for line in self.lines if line.category == "gpu pool"), 2)

    @property
    def gpu_max(self) -> float:
        return round(sum(line.max_monthly for line in self.lines if line.category == "gpu pool"), 2)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["price_date"] = self.price_date.isoformat()
        data.update(
            min_total=self.min_total, max_total=self.max_total, gpu_min=self.gpu_min, gpu_max=self.gpu_max
        )
        return data


ASSUMPTIONS = [
    f"a month is {HOURS_PER_MONTH} hours",
    "a node pool is priced at its first instance type; spot pools get spot_discount off on-demand",
    "each node carries disk_gb of block storage",
    f"object storage is assumed at {ASSUMED_OBJECT_GB_PER_TEAM} GB per team (cost report measures it)",
]


def estimate(spec: PlatformSpec) -> Estimate:
    p = spec.pricing
    env = spec.platform.environment
    lines: list[EstimateLine] = []
    if env == Environment.local:
        price = p.instance_price(spec.local.instance_type)
        monthly = _money(price * HOURS_PER_MONTH)
        lines.append(
            EstimateLine(
                "machine",
                "embedded platform",
                f"1 x {spec.local.instance_type} @ {price}/h x {HOURS_PER_MONTH} h",
                monthly,
                monthly,
            )
        )
    else:
        lines.append(_control_plane_line(spec))
        lines.extend(_pool_line(spec, pool) for pool in spec.node_pools)
        if env == Environment.aws:  # the pods run on the system pool: no charge of their own
            lines.append(EstimateLine("cluster", "cluster autoscaler", "runs on the system pool", 0.0, 0.0))
        if env == Environment.aws:
            lines.extend(_database_lines(spec))
            nat = _money(NAT_GATEWAYS * p.nat_gateway_hour * HOURS_PER_MONTH)
            lines.append(
                EstimateLine("network", "NAT gateway", f"{NAT_GATEWAYS} x {p.nat_gateway_hour}/h", nat, nat)
            )
        # services with a url share one load balancer (one ALB per platform: ingress group.name)
        exposed = any(svc.enabled and svc.url for name, svc in spec.services if name in EXPOSED)
        balancers = LOAD_BALANCERS if exposed else 0
        lb = _money(balancers * p.load_balancer_hour * HOURS_PER_MONTH)
        lines.append(
            EstimateLine("network", "load balancer", f"{balancers} x {p.load_balancer_hour}/h", lb, lb)
        )
    gb = ASSUMED_OBJECT_GB_PER_TEAM * len(spec.teams)
    obj = _money(gb * p.storage_gb_month)
    lines.append(
        EstimateLine(
            "storage", "object storage (assumed)", f"{gb} GB x {p.storage_gb_month}/GB-month", obj, obj
        )
    )
    return Estimate(
        platform=spec.platform.name,
        environment=str(env),
        currency=p.currency,
        price_date=p.as_of,
        price_source=p.source,
        lines=lines,
        assumptions=list(ASSUMPTIONS),
    )


def _control_plane_line(spec: PlatformSpec) -> EstimateLine:
    """EKS charges more per cluster hour once a version leaves standard support."""
    p, version = spec.pricing, spec.platform.cluster.kubernetes_version
    price, detail = p.control_plane_hour, ""
    if spec.platform.environment == Environment.aws and eks_support(version) == "extended":
        price, detail = p.control_plane_extended_hour, f", EKS {version} in extended support"
    cp = _money(price * HOURS_PER_MONTH)
    return EstimateLine("cluster", "control plane", f"1 x {price}/h{detail}", cp, cp)


def _pool_line(spec: PlatformSpec, pool: NodePool) -> EstimateLine:
    p = spec.pricing
    instance = pool.instance_types[0]
    hourly = p.instance_price(instance, pool.capacity)

    def monthly(nodes: int) -> float:
        return _money(nodes * (hourly * HOURS_PER_MONTH + pool.disk_gb * p.block_storage_gb_month))

    gpus = f", {pool.gpus_per_node} x {pool.gpu_type} per node" if pool.is_gpu else ""
    detail = (
        f"{pool.min_size}..{pool.max_size} x {instance} ({pool.capacity}) @ {round(hourly, 6)}/h"
        f" + {pool.disk_gb} GB disk{gpus}"
    )
    category = "gpu pool" if pool.is_gpu else "node pool"
    return EstimateLine(category, pool.name, detail, monthly(pool.min_size), monthly(pool.max_size))


def _database_lines(spec: PlatformSpec) -> list[EstimateLine]:
    p = spec.pricing
    services = spec.services
    instance = services.mlflow.database_instance
    wanted = []
    if services.mlflow.enabled and services.mlflow.backend == "postgres":
        wanted.append("MLflow database")
    if services.label_studio.enabled:
        wanted.append("Label Studio database")
    lines = []
    for name in wanted:
        hourly = p.database_hour[instance]  # the spec checks the instance has a price
        cost = _money(hourly * HOURS_PER_MONTH + DATABASE_STORAGE_GB * p.database_storage_gb_month)
        detail = f"1 x {instance} @ {hourly}/h + {DATABASE_STORAGE_GB} GB"
        lines.append(EstimateLine("database", name, detail, cost, cost))
    return lines


def _money(value: float) -> float:
    return round(value, 4)
