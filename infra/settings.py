"""Stack configuration: which spec file, and the secrets the spec must not hold. Nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from shipyard.errors import UserError
from shipyard.spec.labels import is_dev_stack

HERE = Path(__file__).resolve().parent
NAMESPACE = "shipyard"


@dataclass(frozen=True)
class StackSettings:
    stack: str
    spec_path: Path
    config: pulumi.Config

    @property
    def dev(self) -> bool:
        return is_dev_stack(self.stack)

    def endpoint(self, key: str, fields: tuple[str, ...]) -> dict[str, Any]:
        """A required plain object naming a service outside the stack (host, port, names: no secrets)."""
        value = self.config.get_object(key)
        if not isinstance(value, dict):
            raise UserError(
                f"stack config {NAMESPACE}:{key} is missing (needs {', '.join(fields)})",
                f"pulumi config set --path '{NAMESPACE}:{key}.{fields[0]}' VALUE"
                " (see Pulumi.kubernetes-example.yaml)",
            )
        missing = [f for f in fields if value.get(f) in (None, "")]
        if missing:
            raise UserError(
                f"stack config {NAMESPACE}:{key} has no {', '.join(missing)}",
                f"pulumi config set --path '{NAMESPACE}:{key}.{missing[0]}' VALUE",
            )
        return value

    def secret(self, key: str) -> pulumi.Output[str]:
        return self.config.require_secret(key)


def read_settings() -> StackSettings:
    config = pulumi.Config(NAMESPACE)
    path = Path(config.require("spec"))
    return StackSettings(
        stack=pulumi.get_stack(), spec_path=path if path.is_absolute() else HERE / path, config=config
    )
