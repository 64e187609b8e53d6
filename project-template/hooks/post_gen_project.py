"""Remove the files of options that were not chosen, then say what to do next."""

import shutil
from pathlib import Path

CI_PROVIDER = "{{ cookiecutter.ci_provider }}"
GPU = "{{ cookiecutter.gpu_training }}" == "yes"
LABELING = "{{ cookiecutter.labeling }}" == "yes"
PYTORCH = "{{ cookiecutter.model_flavour }}" == "pytorch"
PACKAGE = Path("src") / "{{ cookiecutter.package_name }}"

unused: list[Path] = []
if CI_PROVIDER == "gitlab":
    unused.append(Path(".github"))
if CI_PROVIDER == "github":
    unused.append(Path(".gitlab-ci.yml"))
if not GPU:
    unused += [
        Path("k8s"),
        PACKAGE / "remote_job.py",
        Path("tests/test_remote_job.py"),
        Path("Dockerfile"),
        Path(".dockerignore"),
    ]
if not LABELING:
    unused += [Path("labeling"), Path("data/labels"), PACKAGE / "labeling.py", Path("tests/test_labeling.py")]
if not PYTORCH:
    unused += [PACKAGE / "torch_model.py", Path("tests/test_torch_model.py")]
    unused += [Path("requirements-torch-cpu.lock"), Path("requirements-torch-cuda.lock")]
elif not GPU:
    unused.append(Path("requirements-torch-cuda.lock"))  # no GPU pool: the CPU build only

for path in unused:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()

# `shipyard new` prints its own "Next:" (it knows the git remote); plain cookiecutter gets this one
VIA_SHIPYARD_NEW = "{{ cookiecutter.get('_shipyard_new', '') }}" == "yes"
if not VIA_SHIPYARD_NEW:
    print(
        """
Generated {{ cookiecutter.project_slug }} for team {{ cookiecutter.team }}. Next:
  cd {{ cookiecutter.project_slug }}
  make add-data DATA=path/to/your.csv TARGET=column   # your own data (else the demo data is used)
  git init -b main && git add . && git commit -m "Start from the Shipyard template"
  make ci          # lint, test, data-check, repro, push-data, gate, register, monitor
"""
    )
