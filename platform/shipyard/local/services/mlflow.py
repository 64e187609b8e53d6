"""MLflow tracking server + model registry: SQLite and served artifacts in the data dir."""

from __future__ import annotations

from shipyard.errors import UserError
from shipyard.identity import auth_server
from shipyard.local.service import Context, Service
from shipyard.platform.env import ENV_MLFLOW_JOB_EXECUTION

# MLflow 3's job runner (GenAI evaluation and prompt jobs, unused by Shipyard) starts about ten huey
# worker processes of ~160 MB each, which take both cores of a small machine while MLflow starts.
NO_JOBS = {ENV_MLFLOW_JOB_EXECUTION: "false"}


def services(ctx: Context) -> list[Service]:
    spec = ctx.spec.services.mlflow
    if not spec.enabled:
        return []
    if spec.backend != "sqlite" or spec.artifacts != "local":
        raise UserError(
            f"services.mlflow: backend {spec.backend!r} / artifacts {spec.artifacts!r} are for cluster "
            "platforms; the embedded platform runs MLflow on SQLite with artifacts in its data dir",
            "set services.mlflow.backend: sqlite and artifacts: local in the spec you pass to `shipyard up`",
        )
    root = ctx.layout.mlflow
    port = ctx.spec.local.ports.mlflow
    url = f"http://{ctx.host}:{port}"

    def command() -> list[str]:
        root.mkdir(parents=True, exist_ok=True)
        # `mlflow server`'s own CLI, with its uvicorn in the same process: ready ~8 s sooner
        return [
            ctx.python, "-m", "shipyard.local.mlflow_server",
            "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination", str(root / "artifacts"),
            "--host", ctx.host, "--port", str(port), "--workers", "1",
            "--app-name", "basic-auth",
        ]  # fmt: skip

    return [
        Service(
            name="mlflow",
            command=command,
            port=port,
            url=url,
            health_url=f"{url}/health",
            env={**ctx.base_env(), **auth_server.server_env(ctx.layout.root, ctx.layout.mlflow), **NO_JOBS},
            cwd=root,
            prepare=lambda report: auth_server.write_config(ctx.layout.mlflow),
            after_start=lambda report: _provision(ctx, url, report),
        )
    ]


def _provision(ctx: Context, url: str, report) -> None:
    """Users and grants from the spec; the users created now are an audit event."""
    from shipyard.audit.names import IDENTITIES_APPLIED
    from shipyard.audit.store import AuditStore
    from shipyard.identity import ADMIN

    created = auth_server.provision(ctx.spec, ctx.layout.root, url, report)
    if created:
        AuditStore.of(ctx.layout.root).append(ADMIN, IDENTITIES_APPLIED, details={"created_users": created})
