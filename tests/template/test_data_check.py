"""`make data-check` in a generated project: passes on the demo data, fails on a corrupted batch
naming the column and the rows."""

from __future__ import annotations

import yaml

from .conftest import bake, git_init, make


def test_corrupted_data_fails_data_check_naming_column_and_rows(tmp_path):
    from sklearn.datasets import load_breast_cancer

    project = bake(tmp_path)
    git_init(project)
    ok = make(project, "data-check")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "data check passed" in ok.stdout

    frame = load_breast_cancer(as_frame=True).frame.rename(columns=lambda c: c.replace(" ", "_"))
    frame["mean_radius"] = frame["mean_radius"].astype(object)
    frame.loc[[2, 5], "mean_radius"] = -3.0
    frame.loc[7, "mean_radius"] = "abc"
    frame.loc[11, "worst_area"] = None
    (project / "data" / "raw" / "dataset.csv").write_text(frame.to_csv(index=False))
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["data"]["source"] = "data/raw/dataset.csv"
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))

    bad = make(project, "data-check")
    assert bad.returncode != 0
    assert "==> data-check" in bad.stdout
    assert "column 'mean_radius': 2 values outside [0, 60] in rows 2, 5" in bad.stderr
    assert "column 'mean_radius': 1 non-numeric values in rows 7" in bad.stderr
    assert "column 'worst_area': 1 empty values in rows 11" in bad.stderr
    assert "Traceback" not in bad.stderr
