"""The vendored chart archives: one per pinned chart, with its source recorded, and each renders."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from . import render

REPO = Path(__file__).resolve().parents[3]


def test_every_pinned_chart_has_an_archive_with_its_source():
    sys.path.insert(0, str(REPO / "infra"))
    from components import common

    entries = json.loads((render.CHARTS / "charts.json").read_text())["archives"]
    pins = {(v.chart, v.version) for v in vars(common).values() if isinstance(v, common.ChartPin)}
    assert pins <= {(e["chart"], e["version"]) for e in entries}
    for e in entries:
        assert render.archive(e["chart"], e["version"]).is_file()
        for source in (e, *e.get("dependencies", [])):
            assert source["source"].startswith("https://github.com/") and len(source["commit"]) == 40


def test_an_archive_renders_with_the_values_given():
    path = render.archive("prometheus-pushgateway", "3.0.0")
    out = render.render(
        path, {"podLabels": {"shipyard.io/component": "x"}}, "pg", "mon", "v1.35.0-eks-3a5b7c9"
    )
    (deployment,) = [m for m in out if m["kind"] == "Deployment"]
    assert deployment["metadata"]["namespace"] == "mon"
    assert deployment["spec"]["template"]["metadata"]["labels"]["shipyard.io/component"] == "x"
    assert (
        render.render(path, {"podLabels": {"shipyard.io/component": "x"}}, "pg", "mon", "v1.35.0-eks-3a5b7c9")
        is out
    )
