"""Label Studio through label-studio-sdk: one labeling project per Shipyard project (title = project slug)."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.errors import UserError

# A binary text classification interface: a sensible default the data scientist edits in Label Studio.
DEFAULT_LABEL_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="label" toName="text" choice="single">
    <Choice value="positive"/>
    <Choice value="negative"/>
  </Choices>
</View>"""


@dataclass(frozen=True)
class LabelProject:
    id: int
    title: str
    task_count: int | None = None


def client(url: str, token: str):
    from label_studio_sdk import LabelStudio

    from shipyard.service_calls import timeout

    return LabelStudio(base_url=url, api_key=token, timeout=timeout())  # bounded: a stopped server fails fast


def find_project(url: str, token: str, title: str) -> LabelProject | None:
    for project in client(url, token).projects.list():
        if project.title == title:
            return LabelProject(project.id, project.title, getattr(project, "task_number", None))
    return None


def ensure_project(
    url: str | None,
    token: str | None,
    title: str,
    description: str = "",
    label_config: str = DEFAULT_LABEL_CONFIG,
) -> LabelProject:
    """The Label Studio project titled ``title``, created if missing (idempotent)."""
    if not url or not token:
        raise UserError(
            "labeling needs Label Studio, which this platform does not run (no URL or API token)",
            "set local.label_studio: true in the spec and run `shipyard up`, or leave out --labeling",
        )
    found = find_project(url, token, title)
    if found:
        return found
    created = client(url, token).projects.create(
        title=title, description=description, label_config=label_config
    )
    return LabelProject(created.id, created.title, 0)


def token_status(url: str, token: str, timeout: float = 10) -> int:
    """The HTTP status Label Studio answers a token's ``whoami`` with (200: the token is accepted)."""
    import requests

    headers = {"Authorization": f"Token {token}"}
    return requests.get(f"{url}/api/current-user/whoami", headers=headers, timeout=timeout).status_code
