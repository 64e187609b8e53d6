"""The scoring child (started by :mod:`.sandbox`, never imported by the registry): confine this
process, load each model in the format :mod:`.formats` accepted, score it on each dataset, and print
one JSON object. The parent gives it no credentials; everything it reads lies in the private folder.

Order matters: record the environment as received; import every module loading and scoring needs and
read the datasets (data, not code); then confine (resource limits, a network namespace of its own, an
unprivileged user when started as root); only then open a model file.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
NOBODY = 65534


def _unshare_network() -> str:
    """A network namespace of its own (only a loopback that is down): 'namespace', else 'shared'."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    flags = [CLONE_NEWNET] if os.geteuid() == 0 else [CLONE_NEWUSER | CLONE_NEWNET]
    for flag in flags:
        if libc.unshare(flag) == 0:
            break
    return "namespace" if _interfaces() <= {"lo"} else "shared"


def _interfaces() -> set[str]:
    try:
        lines = Path("/proc/net/dev").read_text().splitlines()[2:]
    except OSError:
        return set()
    return {line.split(":", 1)[0].strip() for line in lines if ":" in line}


def _limit(limits: dict) -> dict:
    import resource

    names = {"as": resource.RLIMIT_AS, "cpu": resource.RLIMIT_CPU, "nofile": resource.RLIMIT_NOFILE,
             "fsize": resource.RLIMIT_FSIZE, "core": resource.RLIMIT_CORE}  # fmt: skip
    applied = {}
    for key, value in limits.items():
        resource.setrlimit(names[key], (int(value), int(value)))
        applied[key] = int(value)
    return applied


def _drop_user() -> str:
    """As root: become ``nobody``, who reads none of the registry's 0600 files (the model's bytes are
    already in memory); started unprivileged, stay so."""
    if os.geteuid() != 0:
        return "unprivileged"
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)
    return "nobody"


def _imports(kinds: set[str]) -> None:
    import encodings.cp437  # noqa: F401  (zip member names: imported lazily, and later unreadable)
    import zipfile  # noqa: F401

    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import sklearn.metrics  # noqa: F401

    from shipyard.registry import formats, scoring  # noqa: F401
    from shipyard.registry.flavours import import_skops

    # each kind's whole load path, exercised on a model of our own: the lazy imports happen now, while
    # the interpreter's files are readable (as nobody they may not be)
    if "sklearn-skops" in kinds:
        import_skops()  # imports every scikit-learn package (skops lists their estimators)
        import skops.io
        from sklearn.tree import DecisionTreeClassifier

        tree = DecisionTreeClassifier().fit([[0.0], [1.0]], [0, 1])
        own = skops.io.dumps(tree)
        skops.io.loads(own, trusted=skops.io.get_untrusted_types(data=own)).predict([[0.5]])
    if "pytorch-pt2" in kinds:
        import io

        import torch
        import torch.export
        from mlflow.pytorch import _validate_pt2_archive_is_pickle_free

        torch.set_num_threads(1)
        buf = io.BytesIO()
        torch.export.save(torch.export.export(torch.nn.Linear(1, 1), (torch.zeros(2, 1),)), buf)
        _validate_pt2_archive_is_pickle_free(io.BytesIO(buf.getvalue()))  # type: ignore[arg-type]
        with torch.no_grad():
            torch.export.load(io.BytesIO(buf.getvalue())).module()(torch.zeros(2, 1))


def _load(kind: str, data: bytes):
    """The model from its file's bytes (read before the user was dropped)."""
    import io

    from shipyard.registry.formats import PYTORCH_PT2, SKLEARN_SKOPS, SKOPS_TRUSTED

    if kind == SKLEARN_SKOPS:
        import skops.io

        untrusted = skops.io.get_untrusted_types(data=data)
        refused = sorted(set(untrusted) - SKOPS_TRUSTED)
        if refused:
            names = ", ".join(refused)[:300]
            raise ValueError(f"the skops file holds types the platform does not trust: {names}")
        return skops.io.loads(data, trusted=list(untrusted))
    if kind == PYTORCH_PT2:
        import torch
        from mlflow.pytorch import _validate_pt2_archive_is_pickle_free

        # every record plain text/JSON, raw tensor bytes, or accepted by the weights-only unpickler
        _validate_pt2_archive_is_pickle_free(io.BytesIO(data))  # type: ignore[arg-type]
        return torch.export.load(io.BytesIO(data)).module()
    raise ValueError(f"unknown model kind {kind!r}")


def _predict(kind: str, model, x):
    import numpy as np

    if kind == "pytorch-pt2":
        import torch

        with torch.no_grad():
            out = model(torch.from_numpy(x.to_numpy(dtype=np.float32)))
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"the model returned {type(out).__name__}, not one tensor")
        return out.numpy()
    return model.predict(x)


def _first_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:300]}"


def main(request_path: str) -> int:
    environment = sorted(os.environ)
    request = json.loads(Path(request_path).read_text())
    kinds = {m["kind"] for m in request["models"].values()}
    _imports(kinds)
    import pandas as pd

    from shipyard.registry.scoring import labels, score

    target, task = request["target"], request["task"]
    frames = {name: pd.read_csv(path) for name, path in request["datasets"].items()}
    enforced = {
        "limits": _limit(request["limits"]),
        "network": _unshare_network() if request.get("isolate_network", True) else "shared",
    }
    blobs = {name: Path(m["path"]).read_bytes() for name, m in request["models"].items()}
    enforced["user"] = _drop_user() if request.get("drop_user", True) else "same"
    scores: dict[str, dict] = {}
    for name, m in request["models"].items():
        try:
            model = _load(m["kind"], blobs.pop(name))
        except Exception as exc:  # noqa: BLE001  (the model's own failure: reported, not raised)
            scores[name] = {"error": f"cannot load: {_first_line(exc)}"}
            continue
        scores[name] = {}
        for dname, frame in frames.items():
            try:
                x, y = frame.drop(columns=[target]), frame[target]
                if m.get("columns") is not None:  # as MLflow's pyfunc: the signature's columns, in order
                    missing = [c for c in m["columns"] if c not in x.columns]
                    if missing:
                        raise ValueError(f"the data lacks the model's input columns {missing[:10]}")
                    x = x[m["columns"]]
                else:  # a tensor signature (PyTorch): the features as the template's features.xy takes them
                    x = x.drop(columns=["row_id"], errors="ignore")  # provenance.ROW_ID: an id, no feature
                scores[name][dname] = score(task, y, labels(task, _predict(m["kind"], model, x)))
            except Exception as exc:  # noqa: BLE001
                scores[name][dname] = {"error": _first_line(exc)}
    print(json.dumps({"environment": environment, "enforced": enforced, "scores": scores}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
