"""The CI runner: executes the runs that pushes to the embedded git remote queue (shipyard.local.runner)."""

from __future__ import annotations

from shipyard.ci.queue import HEARTBEAT, runner_serving
from shipyard.identity import RUNNER
from shipyard.identity.mlflow_users import credentials
from shipyard.local.runner_pool import default_workers
from shipyard.local.service import Context, Service


def services(ctx: Context) -> list[Service]:
    if not ctx.spec.services.mlflow.enabled:
        return []  # CI records live in MLflow
    ci_dir = ctx.layout.ci

    def command() -> list[str]:
        return [
            ctx.python, "-m", "shipyard.local.runner",
            "--data-dir", str(ctx.layout.root), "--instance-type", ctx.spec.local.instance_type,
            "--workers", str(ctx.spec.local.ci_workers or default_workers()),
        ]  # fmt: skip

    return [
        Service(
            name="ci-runner",
            command=command,
            health=lambda: runner_serving(ci_dir),
            prepare=lambda report: (ci_dir / HEARTBEAT).unlink(missing_ok=True),  # a stale beat is no start
            env={**ctx.base_env(), "PYTHONUNBUFFERED": "1", **_env(ctx)},
            cwd=ctx.layout.root,
            start_timeout=300,
        )
    ]


def _env(ctx: Context) -> dict[str, str]:
    creds = credentials(ctx.layout.root, RUNNER)
    return creds.env() if creds else {}
