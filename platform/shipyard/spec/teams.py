"""Teams (budgets, quotas, people) and node pools."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from shipyard.spec.fields import EMAIL, QUANTITY, Name, PositiveMoney, Strict
from shipyard.spec.labels import GPU_TAINT_KEY, LABEL_GPU_TYPE, LABEL_POOL
from shipyard.spec.platform_info import IAM_PRINCIPAL

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
