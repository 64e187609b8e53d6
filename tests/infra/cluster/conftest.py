"""The example stacks as the cluster would see them (view.py): built once per session from the
mocked graphs of tests/infra/conftest.py; Helm renders are cached by chart digest (render.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.infra.conftest import _runners_spec

from . import view

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def aws_view(aws_graph):
    return view.build(aws_graph, REPO / "examples/platform.aws.yaml")


@pytest.fixture(scope="session")
def k8s_view(k8s_graph):
    return view.build(k8s_graph, REPO / "examples/platform.kubernetes.yaml")


@pytest.fixture(scope="session")
def github_runners_view(github_runners_graph, tmp_path_factory):
    """The AWS example with GitHub runner scale sets (the spec conftest's graph was made from)."""
    return view.build(github_runners_graph, _runners_spec(tmp_path_factory.mktemp("spec"), "github"))


@pytest.fixture(scope="session")
def gitlab_runners_view(gitlab_runners_graph, tmp_path_factory):
    return view.build(gitlab_runners_graph, _runners_spec(tmp_path_factory.mktemp("spec"), "gitlab"))
