"""`make gate` in a generated project (a local MLflow store, no platform): the thresholds it previews
are the platform's, from shipyard.yaml's governance:, never params.yaml; a project of an older template
(the gate still in params.yaml) reads it from there with a note."""

from __future__ import annotations

import pytest
import yaml

from .conftest import bake, git_init, make

pytestmark = pytest.mark.slow


def test_make_gate_applies_the_thresholds_in_shipyard_yaml(tmp_path):
    project = bake(tmp_path)
    git_init(project)
    trained = make(project, "repro")
    assert trained.returncode == 0, trained.stdout[-3000:] + trained.stderr[-3000:]
    passed = make(project, "gate")
    assert passed.returncode == 0 and "gate PASSED" in passed.stdout, passed.stdout + passed.stderr

    catalog_path, params_path = project / "shipyard.yaml", project / "params.yaml"
    catalog = yaml.safe_load(catalog_path.read_text())
    catalog["governance"]["gate"]["thresholds"]["accuracy"] = {"min": 0.999}
    catalog_path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    failed = make(project, "gate")
    assert failed.returncode != 0
    assert "gate FAILED" in failed.stdout and "is below the minimum 0.999" in failed.stdout, failed.stdout
    assert "Traceback" not in failed.stderr

    # the layout before the move: no governance: in shipyard.yaml, the gate in params.yaml
    governance = catalog.pop("governance")
    catalog_path.write_text(yaml.safe_dump(catalog, sort_keys=False))
    params = yaml.safe_load(params_path.read_text())
    params["gate"] = {**governance["gate"], "thresholds": {"f1": {"min": 0.998}}}
    params["monitor"]["max_drift_share"] = governance["monitor"]["max_drift_share"]
    params_path.write_text(yaml.safe_dump(params, sort_keys=False))
    old = make(project, "gate")
    assert old.returncode != 0 and "is below the minimum 0.998" in old.stdout, old.stdout + old.stderr
    assert "`shipyard project update` moves them to shipyard.yaml" in old.stderr
