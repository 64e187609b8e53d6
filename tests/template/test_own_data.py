"""Day one with your own data, as docs/data-scientist.md tells it, on the real embedded platform:
`shipyard new --task ...`, `make add-data DATA=... TARGET=...` (copy, `dvc add`, draft schema.yaml,
data.source, `dvc push`), commit, `git push`. The platform's CI pulls exactly the tracked data, its
tests run on that data, and the registry registers the model: a regression (a target named `price`,
a categorical `district`) and a three-class classification (`species`).

Needs the platform's code as merged: CI jobs import the shipyard package the runner's venv resolves."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from shipyard.ci.runs import wait_for_ci_run
from shipyard.records import MlflowApi

from tests.fixtures.model_card import write_words

from .conftest import make, project_env
from .test_project_ci import STEPS, commit_all

pytestmark = [pytest.mark.services, pytest.mark.slow]


def houses(path: Path, rows: int = 300) -> Path:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "sqft": rng.integers(400, 4000, rows),
            "rooms": rng.integers(1, 8, rows),
            "age_years": rng.integers(0, 100, rows),
            "district": rng.choice(["north", "south", "east"], rows),
        }
    )
    bonus = frame["district"].map({"north": 50_000, "south": 0, "east": 20_000})
    noise = rng.normal(0, 20_000, rows)
    frame["price"] = (frame.sqft * 200 + frame.rooms * 5_000 - frame.age_years * 300 + bonus + noise).round()
    frame.to_csv(path, index=False)
    return path


def flowers(path: Path, rows: int = 300) -> Path:
    rng = np.random.default_rng(1)
    species = rng.integers(0, 3, rows)
    frame = pd.DataFrame(
        {
            "petal": species * 2.0 + rng.normal(0, 0.6, rows),
            "sepal": species * -1.0 + rng.normal(0, 0.8, rows),
            "colour": np.where(species == 2, "blue", rng.choice(["red", "green"], rows)),
            "species": species,
        }
    )
    frame.to_csv(path, index=False)
    return path


CASES = {
    "regression": ("Houses", houses, "houses.csv", "price", "r2"),
    "three-class": ("Flowers", flowers, "flowers.csv", "species", "accuracy"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_own_data_is_set_up_pushed_trained_and_registered(own_light_platform, tmp_path, case):
    from mlflow import MlflowClient

    platform = own_light_platform
    name, write, file_name, target, gate_metric = CASES[case]
    task = "regression" if case == "regression" else "classification"
    data = write(tmp_path / file_name)
    new = platform.cli(
        "new", name, "--team", "demo", "--task", task, "--no-input", "-o", str(tmp_path / "work")
    )
    assert new.returncode == 0, new.stdout + new.stderr
    project = tmp_path / "work" / name.lower()
    slug = project.name

    added = make(project, "add-data", f"DATA={data}", f"TARGET={target}", env=project_env())
    assert added.returncode == 0, added.stdout + added.stderr
    schema = yaml.safe_load((project / "schema.yaml").read_text())
    assert schema["target"]["name"] == target
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["data"]["source"] == f"data/raw/{file_name}"
    assert (project / "data" / "raw" / f"{file_name}.dvc").is_file()
    if case == "regression":
        assert schema["columns"]["district"] == {"type": "category", "allowed": ["east", "north", "south"]}
    else:
        assert schema["target"]["allowed"] == [0, 1, 2]
    ignored = subprocess.run(
        ["git", "check-ignore", f"data/raw/{file_name}"], cwd=project, capture_output=True
    )
    assert ignored.returncode == 0  # the bytes live in DVC, not git

    write_words(project)  # the model card's own words, as the data scientist writes them
    head = commit_all(project, "My own data")
    push = subprocess.run(
        ["git", "push", "-q", "origin", "main"], cwd=project, capture_output=True, text=True
    )
    assert push.returncode == 0, push.stderr
    ci = wait_for_ci_run(MlflowApi(platform.endpoints.mlflow), slug, commit=head, timeout=900)
    log = platform.cli("ci", "logs", ci.run_id).stdout
    assert ci.status == "passed", log[-6000:]
    assert ci.steps == ("pull-raw", *STEPS)

    client = MlflowClient(platform.endpoints.mlflow)
    assert client.get_registered_model(slug).aliases == {"challenger": "1"}
    version = client.get_model_version(slug, "1")
    assert f'"{gate_metric}"' in version.tags.get("shipyard.gate.evidence", "")
