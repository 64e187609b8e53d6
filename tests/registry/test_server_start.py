"""The registry server answers its health check without loading the scoring stack: scikit-learn,
pandas and MLflow's model code are imported at the first submission it scores, not at start (every
`shipyard up` waits for the registry before a push can be registered)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PLATFORM = Path(__file__).resolve().parents[2] / "platform"
SCORING_STACK = ("sklearn", "pandas", "numpy", "mlflow")


def test_the_server_module_imports_none_of_the_scoring_stack(tmp_path):
    code = (
        "import json, sys\n"
        "import shipyard.registry.server\n"
        f"print(json.dumps([m for m in {SCORING_STACK!r} if m in sys.modules]))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(PLATFORM)}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []
