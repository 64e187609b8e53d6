"""The platform gate loads scikit-learn models through skops without importing torch, and trusts
exactly the types skops trusts when torch is imported with it (the real packages, in subprocesses:
each import is a fresh interpreter's)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

PLATFORM = Path(__file__).resolve().parents[2] / "platform"
TRUSTED = (
    "import json, sys\n"
    "{prelude}\n"
    "from skops.io import _trusted_types as t\n"
    "print(json.dumps({{'torch': 'torch' in sys.modules,\n"
    "    'trusted': sorted(t.SKLEARN_ESTIMATOR_TYPE_NAMES + t.SKLEARN_INTERNAL_TYPE_NAMES)}}))\n"
)


def _run(prelude: str, tmp_path: Path) -> dict:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(PLATFORM)}
    code = TRUSTED.format(prelude=prelude)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed here")
def test_skops_is_imported_without_torch_and_trusts_the_same_types(tmp_path):
    ours = _run("from shipyard.registry.flavours import import_skops; import_skops()", tmp_path)
    plain = _run("import skops.io", tmp_path)
    assert plain["torch"] is True  # what the hidden import avoids: torch comes with skops here
    assert ours["torch"] is False
    assert ours["trusted"] == plain["trusted"] and len(ours["trusted"]) > 100


def test_a_model_load_waits_for_skops_and_then_finds_torch_importable(monkeypatch):
    from shipyard.registry import flavours

    monkeypatch.delitem(sys.modules, "skops.io", raising=False)
    flavours.import_skops()
    assert "skops.io" in sys.modules or importlib.util.find_spec("skops") is None
    assert sys.modules.get("torch", "absent") is not None  # never left hidden
