"""The registry service (shipyard.registry.server) as the registry service account."""

from __future__ import annotations

from shipyard.identity import REGISTRY
from shipyard.identity.mlflow_users import credentials
from shipyard.local.service import Context, Service


def services(ctx: Context) -> list[Service]:
    if not ctx.spec.services.mlflow.enabled or ctx.spec_path is None:
        return []
    port = ctx.spec.local.ports.registry
    url = f"http://{ctx.host}:{port}"
    creds = credentials(ctx.layout.root, REGISTRY)

    def command() -> list[str]:
        return [
            ctx.python, "-m", "shipyard.registry.server", "--data-dir", str(ctx.layout.root),
            "--spec", str(ctx.spec_path), "--host", ctx.host, "--port", str(port),
        ]  # fmt: skip

    return [
        Service(
            name="registry",
            command=command,
            port=port,
            url=url,
            health_url=f"{url}/health",
            env={**ctx.base_env(), "PYTHONUNBUFFERED": "1", **(creds.env() if creds else {})},
            cwd=ctx.layout.root,
        )
    ]
