"""Labeling progress of a project, read from Label Studio with label-studio-sdk."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.errors import ServiceUnavailable
from shipyard.platform.endpoints import Endpoints


@dataclass(frozen=True)
class LabelingProgress:
    project: str
    label_studio_id: int
    tasks: int
    labeled: int
    annotations: int

    @property
    def percent(self) -> float:
        return 100.0 * self.labeled / self.tasks if self.tasks else 0.0


def labeling_progress(
    endpoints: Endpoints, project: str, label_studio_id: str | int | None = None
) -> LabelingProgress | None:
    """The project's Label Studio project (by the id tag provisioning sets, else by title); None if none."""
    if not endpoints.label_studio:
        raise ServiceUnavailable("Label Studio", None, "no Label Studio URL in the platform's endpoints")
    from label_studio_sdk import LabelStudio

    try:
        client = LabelStudio(base_url=endpoints.label_studio, api_key=endpoints.label_studio_token, timeout=5)
        if label_studio_id:
            found = [client.projects.get(id=int(label_studio_id))]
        else:
            found = [p for p in client.projects.list(title=project) if p.title == project]
    except Exception as exc:  # the SDK raises httpx and its own ApiError types
        raise ServiceUnavailable("Label Studio", endpoints.label_studio, type(exc).__name__) from None
    if not found:
        return None
    p = found[0]
    return LabelingProgress(
        project=project,
        label_studio_id=int(p.id or 0),
        tasks=int(p.task_number or 0),
        labeled=int(p.num_tasks_with_annotations or 0),
        annotations=int(p.total_annotations_number or 0),
    )
