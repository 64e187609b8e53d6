"""A platform account's MLflow login (no imports beyond the standard library: the CLI loads it at start)."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.platform.env import ENV_MLFLOW_PASSWORD, ENV_MLFLOW_USERNAME


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    @property
    def auth(self) -> tuple[str, str]:
        return (self.username, self.password)

    def env(self) -> dict[str, str]:
        return {ENV_MLFLOW_USERNAME: self.username, ENV_MLFLOW_PASSWORD: self.password}
