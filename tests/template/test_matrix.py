"""The option matrix: every combination bakes clean, valid CI and Kubernetes YAML, and its own
`make lint test` passes (run two at a time: the projects are independent directories)."""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from .conftest import MATRIX, VENV_BIN, make

GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
TEXT_SUFFIXES = {".py", ".toml", ".yaml", ".yml", ".md", ".json", ".xml", ".cfg", ".txt", ".csv", ""}


def project_files(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file() and ".git" not in p.parts]


@pytest.fixture(scope="module")
def lint_test_results(baked_matrix) -> dict[str, subprocess.CompletedProcess]:
    def run(item):
        name, path = item
        return name, make(path, "lint", "test")

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(run, baked_matrix.items()))


def test_matrix_covers_every_option():
    seen = {
        key: {answers.get(key) for answers in MATRIX.values()} for key in ("ci_provider", "model_flavour")
    }
    assert {"gitlab", "both"} <= seen["ci_provider"] and None in seen["ci_provider"]  # None = github default
    assert "pytorch" in seen["model_flavour"] and None in seen["model_flavour"]
    for option in ("gpu_training", "labeling"):
        values = {answers.get(option, "no") for answers in MATRIX.values()}
        assert values == {"yes", "no"}
    assert len(MATRIX) >= 8


@pytest.mark.parametrize("combo", MATRIX)
def test_no_template_syntax_left(baked_matrix, combo):
    leftovers = []
    for path in project_files(baked_matrix[combo]):
        if path.suffix in TEXT_SUFFIXES or path.name in ("Makefile",):
            text = GITHUB_EXPRESSION.sub("", path.read_text())  # ${{ ... }} is GitHub Actions' own syntax
            if "{{" in text or "{%" in text or "cookiecutter" in path.name:
                leftovers.append(str(path.relative_to(baked_matrix[combo])))
    assert leftovers == []


@pytest.mark.parametrize("combo", MATRIX)
def test_only_the_chosen_options_files_exist(baked_matrix, combo):
    answers, path = MATRIX[combo], baked_matrix[combo]
    package = next((path / "src").iterdir())
    ci = answers.get("ci_provider", "github")
    assert (path / ".github" / "workflows" / "ci.yml").exists() == (ci in ("github", "both"))
    assert (path / ".gitlab-ci.yml").exists() == (ci in ("gitlab", "both"))
    gpu = answers.get("gpu_training") == "yes"
    assert (path / "k8s" / "train-job.yaml").exists() == gpu
    assert ("train-remote:" in (path / "Makefile").read_text()) == gpu
    assert (path / "Dockerfile").exists() == gpu and ("image:" in (path / "Makefile").read_text()) == gpu
    labeling = answers.get("labeling") == "yes"
    assert (package / "labeling.py").exists() == labeling
    assert (path / "labeling" / "label_config.xml").exists() == labeling
    torch = answers.get("model_flavour") == "pytorch"
    assert (package / "torch_model.py").exists() == torch
    catalog = yaml.safe_load((path / "shipyard.yaml").read_text())
    assert catalog["task"] == answers.get("task", "classification")
    assert catalog["models"][0]["name"] == catalog["project"] == path.name


def _check_jsonschema(schema: str, files: list[Path]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(VENV_BIN / "check-jsonschema"), "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ci_yaml_is_valid_against_the_provider_schemas(baked_matrix):
    github = [p / ".github" / "workflows" / "ci.yml" for p in baked_matrix.values()]
    gitlab = [p / ".gitlab-ci.yml" for p in baked_matrix.values()]
    github, gitlab = [p for p in github if p.exists()], [p for p in gitlab if p.exists()]
    assert len(github) >= 3 and len(gitlab) >= 3
    for schema, files in (("vendor.github-workflows", github), ("vendor.gitlab-ci", gitlab)):
        result = _check_jsonschema(schema, files)
        assert result.returncode == 0, result.stdout + result.stderr


def test_ci_yaml_steps_are_the_make_targets(baked_matrix):
    steps = ["lint", "test", "data-check", "repro", "push-data", "gate", "register", "monitor"]
    workflow = yaml.safe_load((baked_matrix["default"] / ".github" / "workflows" / "ci.yml").read_text())
    runs = [s["run"] for s in workflow["jobs"]["ci"]["steps"] if str(s.get("run", "")).startswith("make ")]
    assert runs == ["make install", "make pull-raw"] + [f"make {s}" for s in steps] + ["make gate-dry-run"]
    finish = workflow["jobs"]["ci"]["steps"][-2]
    assert finish["if"] == "always()" and "shipyard ci finish" in finish["run"]
    gitlab = yaml.safe_load((baked_matrix["gitlab-regression"] / ".gitlab-ci.yml").read_text())
    script = gitlab[".ci"]["script"]  # the last line: the default branch publishes, others dry-run the gate
    assert script[0] == "make pull-raw"  # the DVC-tracked raw data first (a no-op for the demo data)
    script = script[1:]
    assert script[:4] == [f"make {s}" for s in steps[:4]] and f"make {' '.join(steps[4:])}" in script[4]
    assert "shipyard ci start" in " ".join(gitlab[".ci"]["before_script"])
    # secrets only from CI variables: nothing that looks like a credential value in the files
    for text in (str(workflow), str(gitlab)):
        assert "password:" not in text.lower()


def test_kubernetes_job_is_valid_and_targets_the_gpu_pool(baked_matrix):
    import kubernetes_validate

    gpu_projects = [p for name, p in baked_matrix.items() if MATRIX[name].get("gpu_training") == "yes"]
    assert gpu_projects
    for path in gpu_projects:
        job = yaml.safe_load((path / "k8s" / "train-job.yaml").read_text())
        kubernetes_validate.validate(job, "1.31.0", strict=True)  # raises on an unknown or wrong field
        pod = job["spec"]["template"]["spec"]
        assert job["metadata"]["namespace"] == "demo"
        assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
        assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
        assert pod["nodeSelector"] == {"shipyard.io/pool": "gpu"}


def test_kubernetes_validation_really_rejects_a_broken_job(baked_matrix):
    import kubernetes_validate

    path = baked_matrix["torch-gpu"] / "k8s" / "train-job.yaml"
    job = yaml.safe_load(path.read_text())
    job["spec"]["template"]["spec"]["containers"][0]["resourcez"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(job, "1.31.0", strict=True)


@pytest.mark.parametrize("combo", MATRIX)
def test_generated_project_make_lint_test_passes(lint_test_results, combo):
    result = lint_test_results[combo]
    assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert "==> lint" in result.stdout and "==> test" in result.stdout
    assert " passed" in result.stdout and " failed" not in result.stdout


def test_torch_is_importable_for_the_pytorch_flavour():
    """The PyTorch combinations are really tested: ./dev setup installs the CPU torch build."""
    result = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True, text=True)
    assert result.returncode == 0, "torch missing: ./dev setup installs torch==2.13.0 (CPU build)"
