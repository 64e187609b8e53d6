"""Scoring submitted models outside the registry's process: a child Python with no credentials.

The registry holds MLflow credentials; a model is the judged party's code and data. So the registry
downloads the model files and the evaluation data itself into a private folder (:class:`Workspace`),
checks the format (:mod:`.formats`), and starts ``python -I`` on :mod:`.sandbox_child` with:
- an environment built from nothing (PATH, HOME/TMPDIR in the folder, LANG, one thread each): no
  ``MLFLOW_*``, ``SHIPYARD_*``, ``AWS_*``, token or password variable, no tracking URI;
- the folder's ``work/`` as its current directory; the models and data readable, not writable;
- resource limits (address space, CPU seconds, open files, file size, no core dumps), a wall-clock
  timeout after which its whole process group is killed;
- a network namespace of its own when the kernel allows one (root, or unprivileged user namespaces),
  else no network isolation beyond having nothing to authenticate with; as root it also becomes
  ``nobody`` before opening a model (the registry's 0600 files are then unreadable to it);
and reads back only its JSON answer (at most :data:`MAX_ANSWER` bytes) of metrics per model and dataset.
On a cluster the same child runs as a Job in a pod without a service-account token under a deny-all
NetworkPolicy (docs/manager-auditor.md).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import shipyard
from shipyard.errors import SandboxError
from shipyard.registry.formats import Accepted

MAX_ANSWER = 1024 * 1024
TIMEOUT_S = 600.0
LIMITS = {
    "as": 6 * 1024**3,  # torch's import alone maps ~1.2 GiB of address space
    "cpu": 600,
    "nofile": 256,
    "fsize": 64 * 1024**2,
    "core": 0,
}
NOBODY = 65534
PLATFORM_SOURCE = str(Path(shipyard.__file__).resolve().parents[1])


@dataclass
class Answer:
    scores: dict[str, dict]  # model -> dataset -> metrics, or {"error": ...}
    environment: list[str]  # the names of the variables the child saw
    enforced: dict = field(default_factory=dict)

    def metrics(self, model: str, dataset: str) -> dict[str, float]:
        """The metrics, else :class:`SandboxError` with the child's one-line reason."""
        got = self.scores.get(model, {})
        if "error" in got:
            raise SandboxError(str(got["error"]))
        one = got.get(dataset, {})
        if "error" in one or not one:
            raise SandboxError(str(one.get("error", "no answer")))
        return {str(k): float(v) for k, v in one.items()}


class Workspace:
    """A private folder: ``models/<name>/`` and ``data/<name>.csv`` written by the registry,
    ``work/`` for the child. Removed on exit."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="shipyard-score-"))
        for sub in ("models", "data", "work"):
            (self.root / sub).mkdir()

    def model_dir(self, name: str) -> Path:
        return self.root / "models" / name

    def data_path(self, name: str) -> Path:
        return self.root / "data" / f"{name}.csv"

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def _hand_over(self, drop_user: bool) -> None:
        """Private to the registry's user (0700/0600), read-only for the models and data; ``work/`` the
        child's own. The child reads what it needs before it drops to ``nobody``."""
        for path in [self.root, *self.root.rglob("*")]:
            if path.is_symlink():
                path.unlink()
            elif path.is_dir():
                os.chmod(path, 0o700)
            else:
                os.chmod(path, 0o400)
        if drop_user:
            os.chown(self.root / "work", NOBODY, NOBODY)

    def score(self, models: dict[str, Accepted], datasets: list[str], task: str, target: str,
              timeout: float = TIMEOUT_S, limits: dict | None = None) -> Answer:  # fmt: skip
        """Score each model (``model_dir(name)``) on each dataset (``data_path(name)``) in the child."""
        drop_user = os.geteuid() == 0
        request = {
            "task": task,
            "target": target,
            "models": {n: _model_request(self.model_dir(n), a) for n, a in models.items()},
            "datasets": {d: str(self.data_path(d)) for d in datasets},
            "limits": {**LIMITS, **(limits or {})},
            "isolate_network": True,
            "drop_user": drop_user,
        }
        (self.root / "request.json").write_text(json.dumps(request))
        self._hand_over(drop_user)
        work = self.root / "work"
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(work),
            "TMPDIR": str(work),
            "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
        # -I: no PYTHON* variables, no user site, no current directory on sys.path
        boot = (f"import sys; sys.path.insert(0, {PLATFORM_SOURCE!r}); "
                "from shipyard.registry.sandbox_child import main; sys.exit(main(sys.argv[1]))")  # fmt: skip
        out_path, err_path = self.root / "answer.json", self.root / "stderr.txt"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-c", boot, str(self.root / "request.json")],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=work,
                start_new_session=True, close_fds=True,
            )  # fmt: skip
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                raise SandboxError(f"scoring took longer than {timeout:.0f} s and was stopped") from None
            finally:
                _kill_group(proc.pid)
        with open(out_path, "rb") as f:
            raw = f.read(MAX_ANSWER + 1)
        if code != 0 or not raw:
            raise SandboxError(f"the scoring process ended with {_exit(code)}: {_last_line(err_path)}")
        if len(raw) > MAX_ANSWER:
            raise SandboxError(f"the scoring process answered more than {MAX_ANSWER} bytes")
        return _parse(raw)


def _model_request(folder: Path, accepted: Accepted) -> dict:
    columns = list(accepted.columns) if accepted.columns is not None else None
    return {"kind": accepted.kind, "path": str(folder / accepted.path), "columns": columns}


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)  # anything the child left running in its session
    except (ProcessLookupError, PermissionError):
        pass


def _exit(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"exit {code}"


def _last_line(path: Path) -> str:
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - 4000))
        lines = f.read().decode(errors="replace").strip().splitlines()
    return (lines[-1] if lines else "(nothing on stderr)")[:300]


def _parse(raw: bytes) -> Answer:
    try:
        body = json.loads(raw)
        scores = body["scores"]
        environment = [str(n) for n in body["environment"]]
        enforced = dict(body.get("enforced") or {})
    except (ValueError, KeyError, TypeError):
        raise SandboxError("the scoring process's answer is not the expected JSON") from None
    if not isinstance(scores, dict):
        raise SandboxError("the scoring process's answer is not the expected JSON")
    clean: dict[str, dict] = {}
    for model, per in scores.items():
        if not isinstance(per, dict):
            raise SandboxError("the scoring process's answer is not the expected JSON")
        if "error" in per:
            clean[str(model)] = {"error": str(per["error"])[:400]}
            continue
        clean[str(model)] = {}
        for dataset, metrics in per.items():
            if not isinstance(metrics, dict):
                raise SandboxError("the scoring process's answer is not the expected JSON")
            if "error" in metrics:
                clean[str(model)][str(dataset)] = {"error": str(metrics["error"])[:400]}
                continue
            values = {str(k): v for k, v in metrics.items()}
            if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values.values()):
                raise SandboxError(f"the scoring process's metrics for {model} are not finite numbers")
            clean[str(model)][str(dataset)] = values
    return Answer(clean, environment, enforced)
