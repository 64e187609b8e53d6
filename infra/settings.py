"""Stack configuration: which spec file, and the secrets the spec must not hold. Nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from components.common import is_dev_stack

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

    def secret_object(self, key: str) -> pulumi.Output[Any]:
        """A required secret object, e.g. ``pulumi config set --secret --path shipyard:postgres.password``."""
        return self.config.require_secret_object(key)

    def secret(self, key: str) -> pulumi.Output[str]:
        return self.config.require_secret(key)


def read_settings() -> StackSettings:
    config = pulumi.Config(NAMESPACE)
    path = Path(config.require("spec"))
    return StackSettings(
        stack=pulumi.get_stack(), spec_path=path if path.is_absolute() else HERE / path, config=config
    )
