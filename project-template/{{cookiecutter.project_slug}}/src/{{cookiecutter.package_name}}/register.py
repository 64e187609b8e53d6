"""`make register`: submit the trained run to the platform's registry service.

The platform, not this project, decides: it checks the run's lineage, scores this model and the
current champion on the same held-out data (logged here, with its hash), applies the platform
spec's gate (shipyard.yaml's governance: is only the local preview of `make gate`), and only then
registers a version with alias `challenger`. Another branch than the default gets a recorded dry-run
(`make gate-dry-run` submits with ``--dry-run``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

from shipyard import tags
from shipyard.errors import UserError
from shipyard.records import MlflowApi
from shipyard.registry import client as registry
from shipyard.registry.names import ENV_REGISTRY, EVAL_ARTIFACT, EVAL_HASH
from shipyard.registry.names import TARGET as EVAL_TARGET

from . import config, tracking


def log_eval_data(api: MlflowApi, run_id: str) -> str:
    """The held-out split the platform scores both models on, and its sha256 on the run. The platform
    reads the label from a column named ``target`` whatever schema.yaml calls it."""
    import pandas as pd

    path = config.REPORTS / os.path.basename(EVAL_ARTIFACT)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.read_csv(config.FEATURES / "test.csv")
    frame.rename(columns={config.target(): EVAL_TARGET}).to_csv(path, index=False)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    api.log_artifact(run_id, str(path), os.path.dirname(EVAL_ARTIFACT))
    api.set_tag(run_id, EVAL_HASH, digest)
    return digest


def main(argv: list[str] | None = None) -> int:
    """``--dry-run`` (a branch's CI): submit a run the local gate dry-ran; the platform records its
    verdict as a dry run (it registers only from the default branch's CI run, whatever is asked)."""
    from shipyard.identity.session import require_current
    from shipyard.identity.signed_in import data_dir

    dry_run = "--dry-run" in (sys.argv[1:] if argv is None else argv)
    branch, default = os.environ.get("SHIPYARD_BRANCH", ""), os.environ.get("SHIPYARD_DEFAULT_BRANCH", "main")
    if dry_run and branch == default:
        print(
            f"a dry run is for branches other than {default}: the default branch's CI registers\n"
            "  fix: make register",
            file=sys.stderr,
        )
        return 1
    record = json.loads(config.RUN_FILE.read_text())
    if not os.environ.get(ENV_REGISTRY):
        print(
            "the platform's registry service is not known ($SHIPYARD_REGISTRY_URL): models are registered"
            " only by the platform, from CI\n  fix: push to the platform; `make gate` previews locally",
            file=sys.stderr,
        )
        return 1
    run_id = record["run_id"]
    # the platform's MLflow over REST (shipyard's record layer): no ~4 s MLflow import in every CI run
    api = MlflowApi(tracking.configure())
    try:
        run_tags = {t["key"]: t["value"] for t in api.run(run_id)["data"].get("tags", [])}
    except UserError as exc:
        print(f"{exc.message}\n  fix: {exc.fix}", file=sys.stderr)
        return 1
    if run_tags.get(tags.GATE_DRY_RUN) and not dry_run:
        print(
            f"refusing to register run {run_id}: it ran the gate as a dry run on a branch; only the"
            " default branch's CI registers models\n  fix: merge the branch and push the default branch",
            file=sys.stderr,
        )
        return 1
    if run_tags.get(tags.GIT_DIRTY) == "true":
        print(
            f"refusing to register run {run_id}: it was trained from a working tree with uncommitted"
            " changes, so its commit does not say what code it ran\n  fix: commit, then `make repro`"
            " (or push and let CI train it)",
            file=sys.stderr,
        )
        return 1
    try:
        log_eval_data(api, run_id)
        result = registry.submit(registry.registry_url(), require_current(data_dir()), run_id)
    except UserError as exc:  # the registry refused, or MLflow did (RegistryRefused is one too)
        print(f"{exc.message}\n  fix: {exc.fix}", file=sys.stderr)
        return 1
    for line in registry.format_verdict(result):
        print(line)
    return 0 if result["passed"] else 1  # a dry-run that fails the gate fails the branch's CI too


if __name__ == "__main__":
    sys.exit(main())
