"""CI runners on a cluster (GitHub ARC or GitLab runners per team)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from shipyard.spec.fields import K8S_NAME_PATTERN, Strict
from shipyard.spec.services import ServiceUrl

# --- CI runners -------------------------------------------------------------------------------


GITHUB_CONFIG_URL = (
    r"^https://[A-Za-z0-9.\-]+(:[0-9]{1,5})?/(enterprises/)?[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)?/?$"
)


class RunnerScale(Strict):
    """How many runners a team's runner set keeps idle (min, 0 allowed) and runs at most (max)."""

    min_runners: int = Field(0, ge=0)
    max_runners: int = Field(3, ge=1, le=100)

    @model_validator(mode="after")
    def _range(self) -> RunnerScale:
        if self.min_runners > self.max_runners:
            raise ValueError(
                f"min_runners ({self.min_runners}) is greater than max_runners ({self.max_runners}): "
                "lower min_runners or raise max_runners"
            )
        return self


class GithubRunners(Strict):
    """actions-runner-controller: one runner scale set per team, registered at ``config_url``."""

    config_url: str = Field(
        pattern=GITHUB_CONFIG_URL,
        description="githubConfigUrl: https://github.com/ORG, https://github.com/ORG/REPO or "
        "https://github.com/enterprises/ENTERPRISE (or the GitHub Enterprise Server host)",
    )
    secret: str = Field(
        pattern=K8S_NAME_PATTERN,
        description="name of an existing Secret in every team namespace with the GitHub App "
        "(github_app_id, github_app_installation_id, github_app_private_key) or a PAT (github_token)",
    )
    runner_group: str | None = Field(None, description="GitHub runner group; default: the Default group")


class GitlabRunners(Strict):
    """The gitlab-runner chart: one runner (Kubernetes executor) per team."""

    url: ServiceUrl = Field(description="the GitLab instance, e.g. https://gitlab.example.com/")
    secret: str = Field(
        pattern=K8S_NAME_PATTERN,
        description="name of an existing Secret in every team namespace holding that team's runner "
        "authentication token (key runner-token, a glrt-... token of a runner tagged shipyard-<team>)",
    )


class CiRunners(Strict):
    provider: Literal["github", "gitlab", "none"] = "none"
    github: GithubRunners | None = None
    gitlab: GitlabRunners | None = None
    scale: RunnerScale = RunnerScale()
    teams: dict[str, RunnerScale] = Field({}, description="per-team scale, overriding scale")

    @model_validator(mode="after")
    def _provider_settings(self) -> CiRunners:
        if self.provider == "github" and self.github is None:
            raise ValueError(
                "provider github needs github: {config_url: https://github.com/ORG, secret: SECRET-NAME}"
            )
        if self.provider == "gitlab" and self.gitlab is None:
            raise ValueError(
                "provider gitlab needs gitlab: {url: https://gitlab.example.com/, secret: SECRET-NAME}"
            )
        return self

    def scale_of(self, team: str) -> RunnerScale:
        return self.teams.get(team, self.scale)

    @property
    def service_url(self) -> str | None:
        """Where the runners register: the GitHub org/repo URL or the GitLab instance."""
        if self.provider == "github" and self.github:
            return self.github.config_url
        if self.provider == "gitlab" and self.gitlab:
            return self.gitlab.url
        return None

    def label(self, team: str) -> str | None:
        """What a team's CI jobs select: the runner scale set name (GitHub) or tag (GitLab)."""
        return None if self.provider == "none" else f"shipyard-{team}"


class CiSpec(Strict):
    runners: CiRunners = CiRunners()
