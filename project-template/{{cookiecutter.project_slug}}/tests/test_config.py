import pytest
import yaml

from {{ cookiecutter.package_name }} import config


@pytest.fixture
def root(tmp_path, monkeypatch):
    """config reading another project directory, its caches emptied before and after."""
    monkeypatch.setattr(config, "ROOT", tmp_path)
    for read in (config.params, config.project, config.governance):
        read.cache_clear()
    yield tmp_path
    for read in (config.params, config.project, config.governance):
        read.cache_clear()


def test_the_gate_and_drift_limit_are_the_platforms_not_params():
    assert "gate" not in config.params() and "max_drift_share" not in config.params()["monitor"]
    owned = config.governance()
    assert owned["gate"]["thresholds"] and owned["gate"]["primary_metric"]
    assert 0 < float(owned["monitor"]["max_drift_share"]) <= 1


def test_a_project_of_an_older_template_reads_params_with_a_note(root, capsys):
    gate = {"primary_metric": "f1", "champion_tolerance": 0.02, "thresholds": {"f1": {"min": 0.5}}}
    (root / "params.yaml").write_text(yaml.safe_dump({"gate": gate, "monitor": {"max_drift_share": 0.4}}))
    (root / "shipyard.yaml").write_text(yaml.safe_dump({"project": "x"}))
    assert config.governance() == {"gate": gate, "monitor": {"max_drift_share": 0.4}}
    assert "shipyard project update" in capsys.readouterr().err


def test_no_governance_anywhere_is_one_line_with_a_fix(root):
    (root / "params.yaml").write_text(yaml.safe_dump({"train": {"seed": 1}}))
    (root / "shipyard.yaml").write_text(yaml.safe_dump({"project": "x"}))
    with pytest.raises(SystemExit, match="shipyard.yaml has no governance: section.*\n  fix: "):
        config.governance()
