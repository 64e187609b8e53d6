"""The example stacks as the cluster would see them (view.py): built once per session from the
mocked graphs of tests/infra/conftest.py; Helm renders are cached by chart digest (render.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import view

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def aws_view(aws_graph):
    return view.build(aws_graph, REPO / "examples/platform.aws.yaml")


@pytest.fixture(scope="session")
def k8s_view(k8s_graph):
    return view.build(k8s_graph, REPO / "examples/platform.kubernetes.yaml")
