"""`make label-sync`: create/update this project's Label Studio project and pull its annotations.

Tasks are the prepared rows (row_id + a readable record); annotations land in
data/labels/annotations.csv, which the `prepare` stage applies, and data/labels/export.json records
which export they came from (the training run tags it as shipyard.label.export for lineage).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from datetime import UTC, datetime

import pandas as pd

from . import config

LABEL_CONFIG = config.ROOT / "labeling" / "label_config.xml"
MAX_TASKS = 200


def task_records(frame: pd.DataFrame, limit: int = MAX_TASKS) -> list[dict]:
    rows = frame.head(limit)
    features = rows.drop(columns=[config.target(), config.ROW_ID], errors="ignore")
    return [
        {"row_id": int(row_id), "record": "; ".join(f"{c}={_show(row[c])}" for c in features.columns)}
        for row_id, (_, row) in zip(rows[config.ROW_ID], features.iterrows(), strict=True)
    ]


def _show(value) -> str:
    return f"{value:.4g}" if isinstance(value, int | float) else str(value)


def annotations_from_export(tasks: list[dict]) -> pd.DataFrame:
    """The last non-cancelled annotation of each task: Choices (classification) or Number (regression)."""
    rows = []
    for task in tasks:
        for annotation in task.get("annotations", []):
            if annotation.get("was_cancelled"):
                continue
            for result in annotation.get("result", []):
                value = result.get("value", {})
                label = value["choices"][0] if value.get("choices") else value.get("number")
                if label is not None:
                    rows.append({"row_id": int(task["data"]["row_id"]), "label": float(label)})
    return pd.DataFrame(rows, columns=["row_id", "label"])


def export_id(raw: bytes) -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{hashlib.sha256(raw).hexdigest()[:12]}"


def find_or_create_project(client, title: str, label_config: str):
    """The project titled after this project (the platform may have created it): its labeling
    interface is set to labeling/label_config.xml."""
    for found in client.projects.list(title=title):
        if found.title == title:
            project = client.projects.get(found.id)
            if (project.label_config or "").strip() != label_config.strip():
                project = client.projects.update(found.id, label_config=label_config)
            return project, False
    return client.projects.create(title=title, label_config=label_config), True


def main() -> int:
    from label_studio_sdk import LabelStudio

    url = config.platform_value("LABEL_STUDIO_URL", "label_studio")
    key = os.environ.get("LABEL_STUDIO_API_KEY")
    if not (url and key):
        print(
            "Label Studio is not configured\n  fix: set LABEL_STUDIO_API_KEY to your Label Studio access"
            " token (Label Studio: Account & Settings > Access Token; the platform's CI sets it) and"
            " LABEL_STUDIO_URL if shipyard.yaml has none",
            file=sys.stderr,
        )
        return 2
    client = LabelStudio(base_url=url, api_key=key)
    title = config.project()["project"]
    project, created = find_or_create_project(client, title, LABEL_CONFIG.read_text())
    if created or not project.task_number:
        frame = pd.read_csv(config.PREPARED)
        client.projects.import_tasks(project.id, request=task_records(frame))
        print(
            f"Label Studio project '{title}' (id {project.id}): imported {min(len(frame), MAX_TASKS)} tasks"
        )
    raw = b"".join(client.projects.exports.download_sync(project.id, export_type="JSON"))
    annotations = annotations_from_export(json.loads(raw))
    config.LABELS.mkdir(parents=True, exist_ok=True)
    annotations.to_csv(config.LABELS / "annotations.csv", index=False)
    export = {"export": export_id(raw), "project_id": project.id, "count": len(annotations), "url": url}
    (config.LABELS / "export.json").write_text(json.dumps(export, indent=2) + "\n")
    print(f"pulled {len(annotations)} annotations (export {export['export']}) into data/labels/; commit them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
