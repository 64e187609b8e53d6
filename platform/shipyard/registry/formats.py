"""Which saved models the registry loads at all: formats that load without running the model's code.

Decided from the model's ``MLmodel`` file (YAML, read as data) and its files, before anything is
loaded, in the registry's own process; the scoring child (:mod:`.sandbox_child`) loads only what this
accepted, and checks again what it can check only while loading (skops' types, pt2's records):
- scikit-learn saved with ``serialization_format="skops"``: skops rebuilds only the types it trusts;
  the registry trusts skops' defaults plus :data:`SKOPS_TRUSTED` and never the list a model's
  ``MLmodel`` carries (``skops_trusted_types`` is written by whoever logged the model);
- PyTorch saved as ``pt2`` (``torch.export``: a graph of torch operators and tensor payloads, MLflow's
  default), checked record by record to hold no pickle before ``torch.export.load``. TorchScript and
  ``torch.save`` pickles (``data/model.pth``) are refused: MLflow's flavour loads both with
  ``torch.load``, and a state dict needs the architecture's Python code, which is the model's code.
Everything else (a pyfunc ``python_model``, which is cloudpickle; scikit-learn as pickle or
cloudpickle; ``code`` paths) is refused by name, with the way to log it in an accepted format.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from shipyard.errors import RefusedFormat

SKLEARN_SKOPS = "sklearn-skops"
PYTORCH_PT2 = "pytorch-pt2"
# beyond skops' default trusted types: the tree structure of every scikit-learn tree ensemble, whose
# skops loader rebuilds it from arrays (no reduce of arbitrary callables)
SKOPS_TRUSTED = frozenset({"sklearn.tree._tree.Tree"})
MAX_MLMODEL_BYTES = 1024 * 1024

FIX_SKLEARN = 'log it with mlflow.sklearn.log_model(model, name="model", serialization_format="skops")'
FIX_TORCH = (
    'log it with mlflow.pytorch.log_model(model, name="model", serialization_format="pt2", input_example=x)'
)


@dataclass(frozen=True)
class Accepted:
    kind: str  # SKLEARN_SKOPS | PYTORCH_PT2
    path: str  # the model file, relative to the model's folder
    # the signature's input columns, in order (what MLflow's pyfunc would select from a frame); None
    # for a tensor signature or none at all: every column but the target
    columns: tuple[str, ...] | None = None


def _columns(meta: dict) -> tuple[str, ...] | None:
    import json

    inputs = (meta.get("signature") or {}).get("inputs") if isinstance(meta.get("signature"), dict) else None
    try:
        specs = json.loads(inputs) if isinstance(inputs, str) else None
    except ValueError:
        raise RefusedFormat("the model's MLmodel signature is not JSON") from None
    if not isinstance(specs, list) or not specs:
        return None
    if not all(isinstance(c, dict) and isinstance(c.get("name"), str) for c in specs):
        return None  # a tensor signature names no columns
    return tuple(c["name"] for c in specs)


def _refuse(what: str, fix: str) -> RefusedFormat:
    return RefusedFormat(f"model flavour {what} is not accepted: loading it runs code saved with the model; "
                         f"fix: {fix}")  # fmt: skip


def _inside(folder: Path, name: object) -> str:
    rel = PurePosixPath(str(name))
    if rel.is_absolute() or any(p in ("", ".", "..") for p in rel.parts) or not rel.parts:
        raise RefusedFormat(f"the model's MLmodel names an unsafe path {name!r}")
    if not (folder / rel).is_file():
        raise RefusedFormat(f"the model's MLmodel names {rel.as_posix()}, which it does not hold")
    return rel.as_posix()


def check(folder: Path) -> Accepted:
    """The accepted format of the model saved in ``folder``, else :class:`RefusedFormat`."""
    import yaml

    mlmodel = folder / "MLmodel"
    if not mlmodel.is_file():
        raise RefusedFormat(f"the model has no MLmodel file; fix: {FIX_SKLEARN}")
    if mlmodel.stat().st_size > MAX_MLMODEL_BYTES:
        raise RefusedFormat(f"the model's MLmodel file is larger than {MAX_MLMODEL_BYTES // 1024} KiB")
    try:
        meta = yaml.safe_load(mlmodel.read_text())
    except (yaml.YAMLError, UnicodeDecodeError):
        raise RefusedFormat("the model's MLmodel file is not YAML") from None
    flavours = meta.get("flavors") if isinstance(meta, dict) else None
    if not isinstance(flavours, dict):
        raise RefusedFormat("the model's MLmodel file names no flavours")
    pyfunc = flavours.get("python_function") if isinstance(flavours.get("python_function"), dict) else {}
    if any(isinstance(f, dict) and f.get("code") for f in flavours.values()):
        raise _refuse("with code paths (code=…)", "log the model without code_paths")
    sk, torch = flavours.get("sklearn"), flavours.get("pytorch")
    loader = pyfunc.get("loader_module")
    # whoever loads the version through pyfunc (`make predict`, a model server) takes this loader:
    # it must be the flavour's own, the one the registry judged
    if pyfunc.get("python_model") or (pyfunc and loader not in ("mlflow.sklearn", "mlflow.pytorch")):
        raise _refuse(f"python_function ({loader or 'python_model'}, cloudpickle)",
                      f"{FIX_SKLEARN}, or {FIX_TORCH}")  # fmt: skip
    if isinstance(sk, dict) and isinstance(torch, dict):
        raise RefusedFormat("the model's MLmodel names both sklearn and pytorch flavours: log one model")
    if isinstance(sk, dict):
        fmt = sk.get("serialization_format", "pickle")
        if fmt != "skops":
            raise _refuse(f"sklearn ({fmt})", FIX_SKLEARN)
        path = _inside(folder, sk.get("pickled_model"))
        if pyfunc and (loader != "mlflow.sklearn" or pyfunc.get("model_path") != path):
            raise _refuse(f"python_function ({loader}, {pyfunc.get('model_path')})", FIX_SKLEARN)
        # what a pyfunc load elsewhere trusts: the MLmodel's own list, so it may name no more than ours
        extra = sorted(set(map(str, sk.get("skops_trusted_types") or [])) - SKOPS_TRUSTED)
        if extra:
            raise RefusedFormat(
                f"the model's MLmodel trusts skops types the platform does not: {', '.join(extra)[:300]}; "
                "fix: trust no types beyond sklearn.tree._tree.Tree (skops_trusted_types)"
            )
        return Accepted(SKLEARN_SKOPS, path, _columns(meta))
    if isinstance(torch, dict):
        data = PurePosixPath(str(torch.get("model_data", "data")))
        if (folder / data / "model.pth").exists() or not (folder / data / "model.pt2").is_file():
            raise _refuse("pytorch (pickle or TorchScript, data/model.pth)", FIX_TORCH)
        if pyfunc and loader != "mlflow.pytorch":
            raise _refuse(f"python_function ({loader})", FIX_TORCH)
        return Accepted(PYTORCH_PT2, _inside(folder, data / "model.pt2"), _columns(meta))
    named = ", ".join(sorted(str(k) for k in flavours)) or "(none)"
    raise _refuse(named, f"{FIX_SKLEARN}, or {FIX_TORCH}")
