"""Who pushed: the signed-in identity of the process that ran ``git push`` to the embedded remote.

Git runs the remote's hooks in the pusher's process environment, so the hook sees the pusher's
sign-in (``$MLFLOW_TRACKING_USERNAME/PASSWORD`` or the data dir's ``shipyard login``), recorded only
when verified (:func:`shipyard.identity.verified.verified_account`). The runner, a platform
component, tags the CI run with it (``tags.CI_PUSHED_BY``); the registry copies it onto the model
version it registers from that run (``tags.CREATED_BY``) and into the registration's audit event.
"""

from __future__ import annotations

from pathlib import Path

from shipyard.identity.verified import verified_account


def signed_in_pusher(data_dir: Path) -> str:
    """The verified signed-in account behind this push, or "" (nobody signed in, or a wrong password)."""
    return verified_account(data_dir)
