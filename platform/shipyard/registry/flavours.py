"""Importing skops for the scoring child (:mod:`.sandbox_child`) without importing torch for a
scikit-learn model. The registry's own process loads no model."""

from __future__ import annotations

import sys
import threading

_IMPORTING = threading.Lock()


def import_skops() -> None:
    """Import skops (MLflow's scikit-learn flavour saves and loads with it) without importing torch.

    At import skops lists scikit-learn's estimators by importing every scikit-learn package, its
    array-API shim for torch among them, which imports torch (~3 s of CPU) wherever torch is installed.
    That shim holds no estimator, so with torch hidden for the import the trusted types are the same.
    Every model load goes through here first, so no other thread finds torch hidden meanwhile."""
    with _IMPORTING:
        if "skops.io" in sys.modules or "torch" in sys.modules:
            return
        try:
            # scikit-learn imports scipy.stats, whose import checks arrays against torch's real state
            import sklearn.base  # noqa: F401
        except ImportError:
            return
        sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` raises ImportError
        try:
            import skops.io  # noqa: F401
        except Exception:  # noqa: BLE001  (no skops, or a release that needs torch: imported as is below)
            pass
        finally:
            del sys.modules["torch"]
        if "skops.io" not in sys.modules:
            try:
                import skops.io  # noqa: F401,F811
            except ImportError:  # no skops: a scikit-learn model's load says so
                pass
