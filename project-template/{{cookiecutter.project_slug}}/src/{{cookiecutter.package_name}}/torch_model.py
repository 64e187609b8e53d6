"""A small PyTorch MLP. Uses the GPU when there is one (params.yaml train.device: auto)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn


def pick_device(requested: str = "auto") -> torch.device:
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)


def device_info() -> dict[str, str]:
    if torch.cuda.is_available():
        return {"gpu_count": str(torch.cuda.device_count()), "gpu_type": torch.cuda.get_device_name(0)}
    return {"gpu_count": "0", "gpu_type": ""}


def build(n_features: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1)
    )


def fit(task: str, params: dict, x: np.ndarray, y: np.ndarray) -> nn.Sequential:
    """Full-batch Adam. The returned model maps features to P(class 1), or to the target's own scale."""
    torch.manual_seed(params["seed"])
    device = pick_device(params.get("device", "auto"))
    if device.type == "cpu":
        torch.set_num_threads(1)  # a small MLP: threads cost more than they give on shared CI machines
    net = build(x.shape[1], params["hidden_units"]).to(device)
    y_mean, y_std = (0.0, 1.0) if task == "classification" else (float(y.mean()), float(y.std() or 1.0))
    xt = torch.from_numpy(x).to(device)
    yt = torch.from_numpy(((y - y_mean) / y_std).astype(np.float32)).reshape(-1, 1).to(device)
    loss_fn = nn.BCEWithLogitsLoss() if task == "classification" else nn.MSELoss()
    optimizer = torch.optim.Adam(
        net.parameters(), lr=params["learning_rate"], weight_decay=params["weight_decay"]
    )
    net.train()
    for _ in range(params["epochs"]):
        optimizer.zero_grad()
        loss = loss_fn(net(xt), yt)
        loss.backward()
        optimizer.step()
    net = net.cpu().eval()
    if task == "classification":
        return nn.Sequential(*net, nn.Sigmoid())
    with torch.no_grad():  # fold the target scaling into the last layer: the model speaks the target's units
        last = net[-1]
        last.weight.mul_(y_std)
        last.bias.mul_(y_std).add_(y_mean)
    return net


def raw_output(model: nn.Sequential, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.tensor(np.asarray(x), dtype=torch.float32)).numpy().reshape(-1)


def predict(task: str, model: nn.Sequential, x: np.ndarray) -> np.ndarray:
    out = raw_output(model, x)
    return (out >= 0.5).astype(int) if task == "classification" else out


def save(model: nn.Sequential, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model, path)
    return path


def load(path: Path) -> nn.Sequential:
    return torch.load(path, weights_only=False)
