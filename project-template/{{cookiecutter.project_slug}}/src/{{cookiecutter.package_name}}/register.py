"""`make register`: register the gated run's model and set the `challenger` alias.

Refuses unless MLflow itself records a passed gate for the run (a local file is not enough), so no
step of this project can register a model that did not pass the gate.
"""

from __future__ import annotations

import json
import sys

from shipyard import tags

from . import config, model_card, tracking


def version_tags(run, record: dict) -> dict[str, str]:
    t = run.data.tags
    found = {
        tags.MODEL_RUN_ID: run.info.run_id,
        tags.DATA_HASH: t.get(tags.DATA_HASH, ""),
        tags.GIT_COMMIT: t.get(tags.GIT_COMMIT, ""),
        tags.GATE_RESULT: t.get(tags.GATE_RESULT, ""),
        tags.MODEL_CARD: model_card.ARTIFACT_PATH,
        tags.PROJECT: config.project()["project"],
        tags.TEAM: config.project()["team"],
    }
    if t.get(tags.LABEL_EXPORT):
        found[tags.LABEL_EXPORT] = t[tags.LABEL_EXPORT]
    return found


def existing_version(client, name: str, run_id: str):
    for version in client.search_model_versions(f"name = '{name}' and run_id = '{run_id}'"):
        return version
    return None


def main() -> int:
    from mlflow.exceptions import MlflowException

    record = json.loads(config.RUN_FILE.read_text())
    run_id, name = record["run_id"], config.model_name()
    client = tracking.client()
    run = client.get_run(run_id)
    gate = run.data.tags.get(tags.GATE_RESULT)
    if gate != "passed":
        print(
            f"refusing to register run {run_id}: its gate result is {gate or 'missing'}"
            f" ({run.data.tags.get(tags.GATE_REASON, 'make gate has not run')})\n  fix: run `make gate` and"
            " improve the model until it passes",
            file=sys.stderr,
        )
        return 1
    if run.data.tags.get(tags.GIT_DIRTY) == "true":
        print(
            f"refusing to register run {run_id}: it was trained from a working tree with uncommitted"
            " changes, so its commit does not say what code it ran\n  fix: commit, then `make repro`"
            " (or push and let CI train it)",
            file=sys.stderr,
        )
        return 1
    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(name, tags={tags.PROJECT: name, tags.TEAM: config.project()["team"]})
    version = existing_version(client, name, run_id)
    if version is None:
        version = client.create_model_version(
            name,
            source=record["model_uri"],
            run_id=run_id,
            tags=version_tags(run, record),
            model_id=record.get("model_id"),
            description=f"gate passed: {run.data.tags.get(tags.GATE_REASON, '')}",
        )
    client.set_registered_model_alias(name, tags.CHALLENGER, version.version)
    print(f"registered {name} version {version.version} from run {run_id}; alias '{tags.CHALLENGER}' set")
    return 0


if __name__ == "__main__":
    sys.exit(main())
