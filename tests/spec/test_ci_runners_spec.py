"""ci.runners: self-hosted CI runners per team (GitHub ARC or gitlab-runner), checked field by field."""

from __future__ import annotations

import pytest
from shipyard.errors import UserError
from shipyard.spec import SpecError, parse_spec

CLUSTER = (
    "platform: {name: p, environment: kubernetes, cluster: {kubeconfig_context: c}}\n"
    "teams:\n"
    "  - {name: ml, owners: [a@b.co], monthly_budget: 100}\n"
    "  - {name: cv, owners: [c@b.co], monthly_budget: 100}\n"
    "node_pools:\n  - {name: cpu, instance_types: [m6i.large], min_size: 0, max_size: 2}\n"
)
GITHUB = "    github: {config_url: 'https://github.com/acme', secret: arc-github}\n"
GITLAB = "    gitlab: {url: 'https://gitlab.acme.example/', secret: gitlab-runner-token}\n"


def runners(*lines: str) -> str:
    return CLUSTER + "ci:\n  runners:\n" + "".join(lines)


def test_defaults_no_runners():
    spec = parse_spec(CLUSTER)
    assert spec.ci.runners.provider == "none" and spec.ci.runners.label("ml") is None


def test_github_runners_with_per_team_scale():
    spec = parse_spec(
        runners("    provider: github\n", GITHUB, "    teams:\n      cv: {min_runners: 1, max_runners: 8}\n")
    )
    r = spec.ci.runners
    assert r.github.config_url == "https://github.com/acme" and r.github.secret == "arc-github"
    assert (r.scale_of("ml").min_runners, r.scale_of("ml").max_runners) == (0, 3)
    assert (r.scale_of("cv").min_runners, r.scale_of("cv").max_runners) == (1, 8)
    assert r.label("cv") == "shipyard-cv"


def test_gitlab_runners_min_zero():
    spec = parse_spec(
        runners("    provider: gitlab\n", GITLAB, "    scale: {min_runners: 0, max_runners: 1}\n")
    )
    assert spec.ci.runners.gitlab.secret == "gitlab-runner-token"


BAD = [
    # (id, yaml, field path, line, words)
    ("github without settings", runners("    provider: github\n"), "ci.runners", 8, "provider github needs"),
    ("gitlab without settings", runners("    provider: gitlab\n"), "ci.runners", 8, "provider gitlab needs"),
    ("unknown provider", runners("    provider: jenkins\n"), "ci.runners.provider", 9, "'github'"),
    (
        "credentials instead of a secret name",
        runners(
            "    provider: github\n",
            "    github: {config_url: 'https://github.com/acme', secret: 'ghp_abc DEF'}\n",
        ),  # fmt: skip
        "ci.runners.github.secret",
        10,
        "does not match",
    ),
    (
        "config url not a github org/repo",
        runners("    provider: github\n", "    github: {config_url: 'github.com/acme', secret: s}\n"),
        "ci.runners.github.config_url",
        10,
        "does not match",
    ),
    (
        "min > max",
        runners("    provider: github\n", GITHUB, "    scale: {min_runners: 4, max_runners: 2}\n"),
        "ci.runners.scale",
        11,
        "greater than max_runners",
    ),
    (
        "negative min",
        runners("    provider: github\n", GITHUB, "    scale: {min_runners: -1}\n"),
        "ci.runners.scale.min_runners",
        11,
        ">= 0",
    ),
    (
        "zero max",
        runners("    provider: github\n", GITHUB, "    scale: {max_runners: 0}\n"),
        "ci.runners.scale.max_runners",
        11,
        ">= 1",
    ),
    (
        "unknown team",
        runners("    provider: github\n", GITHUB, "    teams:\n      ghosts: {max_runners: 1}\n"),
        "ci.runners.teams.ghosts",
        12,
        "'ghosts' is not defined",
    ),
    (
        "runners on a local platform",
        "platform: {name: p}\nteams:\n  - {name: ml, owners: [a@b.co], monthly_budget: 1}\n"
        "ci:\n  runners:\n    provider: github\n" + GITHUB,
        "ci.runners.provider",
        6,
        "need a cluster platform",
    ),
    ("unknown key", runners("    provider: none\n    token: x\n"), "ci.runners.token", 10, "unknown key"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_bad_runner_settings_name_field_line_and_fix(case):
    _, text, path, line, words = case
    with pytest.raises(SpecError) as info:
        parse_spec(text, "bad.yaml")
    problems = {(p.path, p.line): p.message for p in info.value.problems}
    assert (path, line) in problems, problems
    assert words in problems[(path, line)]
    err: UserError = info.value
    assert "\n" not in err.message and "fix: " in str(err)  # one line naming the field, then a fix
