"""The spec's building blocks: field patterns and types, the strict base model, the environment."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

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
