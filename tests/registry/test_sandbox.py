"""The scoring child (shipyard.registry.sandbox) and the formats the registry loads (formats), on
models saved by MLflow's real flavours into a folder: no MLflow server is needed."""

from __future__ import annotations

import importlib.util
import os

import pytest
from shipyard.registry import formats
from shipyard.registry.sandbox import SandboxError, Workspace

SECRETS = {
    "MLFLOW_TRACKING_USERNAME": "shipyard-registry",
    "MLFLOW_TRACKING_PASSWORD": "registry-secret",
    "MLFLOW_TRACKING_URI": "http://127.0.0.1:5000",
    "SHIPYARD_HOME": "/srv/shipyard",
    "AWS_SECRET_ACCESS_KEY": "aws-secret",
    "GITHUB_TOKEN": "gh-token",
}


def _data():
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True, as_frame=True)
    x.columns = [f"f{i}" for i in range(x.shape[1])]
    return x, y


def _save_tree(folder, **kwargs):
    import mlflow.sklearn
    from sklearn.tree import DecisionTreeClassifier

    x, y = _data()
    model = DecisionTreeClassifier(max_depth=4, random_state=0).fit(x, y)
    options = {"serialization_format": "skops", "skops_trusted_types": ["sklearn.tree._tree.Tree"], **kwargs}
    mlflow.sklearn.save_model(model, str(folder), pip_requirements=[], **options)
    return model


def test_the_child_sees_no_credentials_and_scores_as_mlflow_pyfunc_did(monkeypatch):
    import mlflow.pyfunc
    import pandas as pd
    from mlflow.models import infer_signature
    from shipyard.registry.scoring import score_model

    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    x, y = _data()
    with Workspace() as ws:
        model = _save_tree(ws.model_dir("candidate"), signature=infer_signature(x.head(5), y.head(5)))
        # as the template logs it: a row id beside the features (the signature's columns are selected)
        frame = x.assign(row_id=range(len(x)), target=y)[["row_id", *reversed(x.columns), "target"]]
        frame.to_csv(ws.data_path("eval"), index=False)
        answer = ws.score({"candidate": formats.check(ws.model_dir("candidate"))}, ["eval"], "classification",
                          "target")  # fmt: skip
        # what the registry scored before: MLflow's pyfunc, in its own process
        before = score_model(mlflow.pyfunc.load_model(str(ws.model_dir("candidate"))), "classification",
                             pd.read_csv(ws.data_path("eval")), "target")  # fmt: skip
    seen = set(answer.environment)
    assert not seen & set(SECRETS), seen
    assert not [n for n in seen if n.startswith(("MLFLOW_", "SHIPYARD_", "AWS_")) or "TOKEN" in n]
    assert answer.metrics("candidate", "eval") == before and before["accuracy"] > 0.9
    assert model.n_features_in_ == 30
    assert answer.enforced["limits"]["nofile"] == 256 and answer.enforced["limits"]["core"] == 0
    if os.geteuid() == 0:  # here: root in a container that may unshare; say what was enforced
        assert answer.enforced["network"] == "namespace" and answer.enforced["user"] == "nobody"


def test_a_pickled_sklearn_model_and_a_python_model_are_refused_by_name(tmp_path):
    import mlflow.sklearn
    from sklearn.tree import DecisionTreeClassifier

    x, y = _data()
    mlflow.sklearn.save_model(DecisionTreeClassifier().fit(x, y), str(tmp_path / "pkl"),
                              serialization_format="pickle", pip_requirements=[])  # fmt: skip
    with pytest.raises(formats.RefusedFormat, match=r"sklearn \(pickle\) is not accepted.*fix: .*skops"):
        formats.check(tmp_path / "pkl")

    class Anything(mlflow.pyfunc.PythonModel):
        def predict(self, context, model_input, params=None):
            return model_input

    mlflow.pyfunc.save_model(str(tmp_path / "pyfunc"), python_model=Anything(), pip_requirements=[])
    with pytest.raises(formats.RefusedFormat, match=r"python_function .*cloudpickle.* is not accepted"):
        formats.check(tmp_path / "pyfunc")


def test_skops_types_are_trusted_by_the_platform_never_by_the_models_mlmodel(tmp_path):
    _save_tree(tmp_path / "lax", skops_trusted_types=["sklearn.tree._tree.Tree", "builtins.eval"])
    with pytest.raises(formats.RefusedFormat, match="builtins.eval"):
        formats.check(tmp_path / "lax")

    # a skops file holding a type nobody trusts: the child refuses it by name and loads nothing
    import skops.io  # here, not at collection: with torch installed it imports torch (test_flavours)

    x, y = _data()
    with Workspace() as ws:
        folder = ws.model_dir("candidate")
        _save_tree(folder)
        (folder / "model.skops").write_bytes(skops.io.dumps({"f": _Untrusted()}))
        x.assign(target=y).to_csv(ws.data_path("eval"), index=False)
        answer = ws.score({"candidate": formats.check(folder)}, ["eval"], "classification", "target")
    with pytest.raises(SandboxError, match=r"does not trust: .*_Untrusted"):
        answer.metrics("candidate", "eval")


class _Untrusted:
    pass


def test_a_child_past_its_time_is_stopped(tmp_path):
    x, y = _data()
    with Workspace() as ws:
        _save_tree(ws.model_dir("candidate"))
        x.assign(target=y).to_csv(ws.data_path("eval"), index=False)
        with pytest.raises(SandboxError, match="longer than 0 s"):
            ws.score({"candidate": formats.check(ws.model_dir("candidate"))}, ["eval"], "classification",
                     "target", timeout=0.01)  # fmt: skip


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed here")
def test_a_pt2_model_is_scored_and_a_pickled_or_torchscript_one_is_refused(tmp_path):
    import mlflow.pytorch
    import numpy as np
    import torch
    from shipyard.registry.scoring import labels, score

    x, y = _data()
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(30, 1), torch.nn.Sigmoid())
    example = x.to_numpy(np.float32)[:5].copy()
    with Workspace() as ws:
        mlflow.pytorch.save_model(net, str(ws.model_dir("candidate")), serialization_format="pt2",
                                  input_example=example, pip_requirements=[])  # fmt: skip
        x.assign(target=y).to_csv(ws.data_path("eval"), index=False)
        accepted = formats.check(ws.model_dir("candidate"))
        assert accepted.kind == formats.PYTORCH_PT2
        answer = ws.score({"candidate": accepted}, ["eval"], "classification", "target")
    with torch.no_grad():
        direct = net(torch.from_numpy(x.to_numpy(np.float32))).numpy()
    assert answer.metrics("candidate", "eval") == score("classification", y, labels("classification", direct))

    for name, model in (("pickle", net), ("script", torch.jit.script(net))):
        folder = str(tmp_path / name)
        mlflow.pytorch.save_model(model, folder, serialization_format="pickle", pip_requirements=[])
        with pytest.raises(formats.RefusedFormat, match=r"pytorch \(pickle or TorchScript.*fix: .*pt2"):
            formats.check(tmp_path / name)
