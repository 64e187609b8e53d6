"""`make train-remote`: run the pipeline as a Kubernetes Job on the GPU node pool and wait for it.

The Job (k8s/train-job.yaml) runs `make repro push-data gate register` in the team's namespace with
the platform's endpoints (ConfigMap shipyard-endpoints) and credentials (Secret shipyard-credentials).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import yaml

from . import config, lineage

MANIFEST = config.ROOT / "k8s" / "train-job.yaml"


def render(manifest: dict, commit: str, ci_run_id: str | None) -> dict:
    """The Job for one commit: unique name, image tagged with the commit, the CI run id passed on."""
    job = yaml.safe_load(yaml.safe_dump(manifest))
    short = commit[:8] if commit != "unknown" else "local"
    job["metadata"]["name"] = f"{manifest['metadata']['name']}-{short}"[:63]
    container = job["spec"]["template"]["spec"]["containers"][0]
    container["image"] = container["image"].rsplit(":", 1)[0] + f":{short}"
    env = container.setdefault("env", [])
    env.append({"name": "SHIPYARD_GIT_COMMIT", "value": commit})
    if ci_run_id:
        env.append({"name": "SHIPYARD_CI_RUN_ID", "value": ci_run_id})
    return job


def main() -> int:
    if shutil.which("kubectl") is None:
        print("kubectl is not installed\n  fix: run this where kubectl reaches the cluster", file=sys.stderr)
        return 2
    job = render(
        yaml.safe_load(MANIFEST.read_text()), lineage.git_commit(), os.environ.get("SHIPYARD_CI_RUN_ID")
    )
    name, namespace = job["metadata"]["name"], job["metadata"]["namespace"]
    subprocess.run(["kubectl", "apply", "-f", "-"], input=yaml.safe_dump(job), text=True, check=True)
    print(f"submitted Job {namespace}/{name}; waiting")
    wait = subprocess.run(
        ["kubectl", "wait", "-n", namespace, f"job/{name}", "--for=condition=complete", "--timeout=6h"]
    )
    subprocess.run(["kubectl", "logs", "-n", namespace, f"job/{name}", "--tail=200"])
    return wait.returncode


if __name__ == "__main__":
    sys.exit(main())
