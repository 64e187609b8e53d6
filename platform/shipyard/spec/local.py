"""The embedded (one-machine) runtime: host, ports, data dir, retention."""

from __future__ import annotations

import ipaddress

from pydantic import Field, field_validator, model_validator

from shipyard.spec.fields import HOSTNAME, Port, Strict

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
    ci_workers: int | None = Field(
        None,
        ge=1,
        le=64,
        description="CI runs the embedded runner executes at once (one project's runs always one at a "
        "time, in push order); default: half the machine's cores, at least 2, at most 8",
    )
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
