"""Point the DVC remote `platform` at the team's storage: SHIPYARD_DVC_REMOTE (+ endpoint) when the
platform gives one, else what shipyard.yaml / .dvc/config were generated with. Writes .dvc/config.local.
"""

from __future__ import annotations

import os

from . import config

REMOTE = "platform"


def local_config(url: str | None, endpoint: str | None) -> str:
    if not url:
        return ""
    lines = [f"['remote \"{REMOTE}\"']", f"    url = {url}"]
    if endpoint:
        lines.append(f"    endpointurl = {endpoint}")
    return "\n".join(lines) + "\n"


def main() -> None:
    url = os.environ.get("SHIPYARD_DVC_REMOTE")
    endpoint = os.environ.get("SHIPYARD_DVC_ENDPOINT_URL")
    path = config.ROOT / ".dvc" / "config.local"
    text = local_config(url, endpoint)
    if text:
        path.write_text(text)
        print(f"DVC remote '{REMOTE}': {url} (from SHIPYARD_DVC_REMOTE)")
    else:
        path.unlink(missing_ok=True)
        print(f"DVC remote '{REMOTE}': as in .dvc/config (no SHIPYARD_DVC_REMOTE in the environment)")


if __name__ == "__main__":
    main()
