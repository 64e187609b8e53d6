"""The portal (Streamlit) on the embedded platform, pointed at the platform's own endpoints."""

from __future__ import annotations

import sys
from pathlib import Path

from shipyard.errors import UserError
from shipyard.local.service import Context, Service
from shipyard.platform.portal import PORTAL_HEALTH, portal_env
from shipyard.platform.portal import portal_command as streamlit_command
from shipyard.platform.resolver import Platform

PORTAL_DIR = Path(__file__).resolve().parents[4] / "portal"


def portal_command(port: int, host: str) -> list[str]:
    """``streamlit run portal/Home.py`` on ``host:port``, headless, with this venv's python."""
    home = PORTAL_DIR / "Home.py"
    if not home.is_file():
        raise UserError(f"the portal is not at {home}", "run shipyard from its source checkout (./dev setup)")
    return streamlit_command(sys.executable, str(home), port, host)


def services(ctx: Context) -> list[Service]:
    if not (ctx.spec.local.portal and ctx.spec.services.portal.enabled):
        return []
    port = ctx.spec.local.ports.portal
    url = f"http://{ctx.host}:{port}"
    env = {**ctx.base_env()}
    if ctx.spec_path:
        platform = Platform(ctx.spec, ctx.spec_path, ctx.endpoints(), ctx.layout.root)
        env.update(portal_env(platform))
        env.update(_portal_credentials(ctx))
    return [
        Service(
            name="portal",
            command=lambda: portal_command(port, ctx.host),
            port=port,
            url=url,
            health_url=f"{url}{PORTAL_HEALTH}",
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
