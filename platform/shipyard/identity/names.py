"""The shared names of the identity package: service accounts and roles."""

from __future__ import annotations

ADMIN = "shipyard-admin"  # MLflow's bootstrap admin: creates users and grants, nothing else
REGISTRY = "shipyard-registry"  # the registry service: alone registers versions and moves aliases
RUNNER = "shipyard-runner"  # the embedded CI runner: records CI runs in every project's experiment
PORTAL = "shipyard-portal"  # the portal: reads
SERVICE_ACCOUNTS = (ADMIN, REGISTRY, RUNNER, PORTAL)
CI_PREFIX = "ci-"

# roles a person has, derived from the spec
APPROVER = "approver"
AUDITOR = "auditor"
MANAGER = "manager"
PLATFORM_ADMIN = "platform_admin"
TEAM_OWNER = "team_owner"
TEAM_MEMBER = "team_member"


def ci_account(project: str) -> str:
    """The CI credential of one project: writes runs in that project's experiment only."""
    return f"{CI_PREFIX}{project}"


def normal(email: str) -> str:
    """Emails compare case-insensitively: ``Alice@X.com`` is the same person as ``alice@x.com``."""
    return email.strip().lower()
