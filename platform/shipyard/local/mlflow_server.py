"""`mlflow server` in one process, for the embedded platform: ``python -m shipyard.local.mlflow_server
ARGS`` takes exactly ``mlflow server``'s arguments.

``mlflow server`` imports MLflow (about 8 s on a 2-core machine), bootstraps the basic-auth admin, and
then starts uvicorn as a child process, which imports MLflow's app all over again (another 8 s) before
it answers ``/health``. With one worker nothing needs that child: here MLflow's own CLI runs unchanged
(its options, environment and auth bootstrap) and only its final ``python -m uvicorn ...`` is run in
this process, where MLflow is imported already. MLflow is pinned (requirements.lock); if a release
starts the server differently, the command is spawned as MLflow meant it, only slower.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any


class InProcessServer:
    """Stands in for the ``Popen`` of ``python -m uvicorn ARGS``: ``wait()`` runs uvicorn here."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str]) -> None:
        self.args = list(args)
        self.env = dict(env)
        self.pid = os.getpid()
        self.returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode

    def send_signal(self, signum: int) -> None:
        # MLflow forwards SIGTERM/SIGINT to its child; uvicorn installs its own handlers while it
        # serves, so this is only reached before or after serving: nothing to forward to
        pass

    def wait(self, timeout: float | None = None) -> int:
        from uvicorn.main import main as uvicorn_main

        os.environ.update(self.env)
        try:
            uvicorn_main.main(args=self.args, prog_name="uvicorn")
        except SystemExit as exc:
            self.returncode = exc.code if isinstance(exc.code, int) else 0
            if self.returncode:  # e.g. the port is taken: MLflow's CLI would ignore it and exit 0
                raise
        return self.returncode or 0


def in_process_uvicorn(original):
    def exec_cmd(cmd: Sequence[str], *args: Any, **kwargs: Any):
        is_uvicorn = list(cmd[:3]) == [sys.executable, "-m", "uvicorn"]
        if is_uvicorn and not kwargs.get("synchronous", True) and "--workers" in cmd:
            workers = cmd[list(cmd).index("--workers") + 1]
            if workers == "1":
                return InProcessServer(cmd[3:], kwargs.get("extra_env") or {})
        return original(cmd, *args, **kwargs)

    return exec_cmd


def main(argv: Sequence[str] | None = None) -> int:
    import mlflow.server
    from mlflow.cli import cli

    mlflow.server._exec_cmd = in_process_uvicorn(mlflow.server._exec_cmd)
    try:
        cli.main(args=["server", *(sys.argv[1:] if argv is None else argv)], prog_name="mlflow")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
