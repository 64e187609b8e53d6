"""The GPU option's training image: the Dockerfile and `make image` build what k8s/train-job.yaml runs.

No container engine runs on these machines, so the image is not built here. Checked instead: the
Dockerfile's instructions (a pinned base, every COPY source present in the project, the Job's command
as CMD), the build context excludes pipeline outputs, and `make -n image` builds and pushes exactly the
image name and commit tag that `make train-remote` (remote_job.render) puts into the Job.
Not checked: that the base image pulls, that pip resolves inside it, that CUDA works at run time.
"""

from __future__ import annotations

import json
import subprocess
import sys

import yaml

from .conftest import bake, git_init, make, project_env


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    joined = dockerfile.replace("\\\n", " ")
    lines = [
        line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_make_image_builds_the_image_the_job_runs(tmp_path):
    project = bake(tmp_path, model_flavour="pytorch", gpu_training="yes", project_name="Vision Model")
    git_init(project)
    steps = instructions((project / "Dockerfile").read_text())
    kinds = [kind for kind, _ in steps]
    assert kinds[0] == "FROM" and ":" in steps[0][1] and not steps[0][1].endswith(":latest")
    assert set(kinds) <= {"FROM", "RUN", "WORKDIR", "COPY", "ENV", "CMD", "ARG"}
    installs = [args for kind, args in steps if kind == "RUN" and "pip install" in args]
    assert installs and all("--no-deps" in args for args in installs)  # every package from a lock
    assert "ci/platform_index.py install" in installs[0]  # shipyard only from the platform's index
    for kind, args in steps:
        if kind == "COPY":
            *sources, _ = args.split()
            assert all(s == "." or (project / s).exists() for s in sources), args
    job = yaml.safe_load((project / "k8s" / "train-job.yaml").read_text())
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert json.loads(dict(steps)["CMD"]) == container["command"]
    ignored = (project / ".dockerignore").read_text().split()
    assert {"data/prepared/", "models/", ".venv/"} <= set(ignored)

    dry = make(project, "-n", "image")
    assert dry.returncode == 0, dry.stderr
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True).stdout
    render = subprocess.run(
        [sys.executable, "-c", "import json, yaml, sys; from vision_model import remote_job as r; "
         "print(r.render(yaml.safe_load(r.MANIFEST.read_text()), sys.argv[1], None)['spec']['template']"
         "['spec']['containers'][0]['image'])", head.strip()],
        cwd=project, env=project_env(PYTHONPATH="src"), capture_output=True, text=True,
    )  # fmt: skip
    assert render.returncode == 0, render.stderr
    image = render.stdout.strip()
    assert image.endswith(":" + head[:8])
    assert f"docker build --build-arg SHIPYARD_INDEX_URL -t {image} ." in dry.stdout
    assert f"docker push {image}" in dry.stdout


def test_make_image_without_a_commit_is_a_one_line_error(tmp_path):
    project = bake(tmp_path, model_flavour="pytorch", gpu_training="yes")
    result = make(project, "image", env=project_env(GIT_CEILING_DIRECTORIES=str(tmp_path)))
    assert result.returncode != 0
    assert "error: no git commit to tag the image with" in result.stdout + result.stderr
