"""The platform's package index: the ``shipyard`` wheel built from this source, served as a PEP 503
simple index (``python -m http.server`` over a static tree) for projects' CI to install it from."""

from __future__ import annotations

from shipyard.local.service import Context, Service
from shipyard.package_index import DISTRIBUTION, publish


def services(ctx: Context) -> list[Service]:
    if not ctx.spec.services.package_index.enabled:
        return []
    root = ctx.layout.package_index
    port = ctx.spec.local.ports.package_index
    url = f"http://{ctx.host}:{port}"

    def prepare(report) -> None:
        published = publish(root)
        report(f"publishes {published.wheel} (sha256 {published.sha256[:12]}…)")

    return [
        Service(
            name="package-index",
            command=lambda: [
                ctx.python,
                "-m",
                "http.server",
                str(port),
                "--bind",
                ctx.host,
                "--directory",
                str(root),
            ],  # fmt: skip
            port=port,
            url=f"{url}/simple/",
            health_url=f"{url}/simple/{DISTRIBUTION}/",
            prepare=prepare,
            env=ctx.base_env(),
            cwd=root,
            start_timeout=60,
        )
    ]
