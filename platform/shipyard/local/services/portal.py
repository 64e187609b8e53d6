"""The portal (Streamlit) on the embedded platform, pointed at the platform's own endpoints."""

from __future__ import annotations

from shipyard.catalog.config import portal_env
from shipyard.cli.portal_cmd import PORTAL_DIR, portal_command
from shipyard.local.service import Context, Service


def services(ctx: Context) -> list[Service]:
    if not (ctx.spec.local.portal and ctx.spec.services.portal.enabled):
        return []
    port = ctx.spec.local.ports.portal
    url = f"http://{ctx.host}:{port}"
    env = {**ctx.base_env()}
    if ctx.spec_path:
        env.update(portal_env(ctx.spec_path, ctx.endpoints(), ctx.layout.root))
        env["SHIPYARD_GIT_ROOT"] = str(ctx.layout.git)
        env.update(_portal_credentials(ctx))
    return [
        Service(
            name="portal",
            command=lambda: portal_command(port, ctx.host),
            port=port,
            url=url,
            health_url=f"{url}/_stcore/health",
            env=env,
            cwd=PORTAL_DIR,
            start_timeout=120,
        )
    ]


def _portal_credentials(ctx: Context) -> dict[str, str]:
    """The portal reads MLflow as its own account (READ); people sign in to the portal itself."""
    from shipyard.identity import PORTAL
    from shipyard.identity.mlflow_users import credentials

    creds = credentials(ctx.layout.root, PORTAL)
    return creds.env() if creds else {}
