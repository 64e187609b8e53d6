"""People and their roles, read from the platform spec (teams and ``governance.people``)."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard.identity.names import (
    APPROVER,
    AUDITOR,
    MANAGER,
    PLATFORM_ADMIN,
    TEAM_MEMBER,
    TEAM_OWNER,
    normal,
)
from shipyard.spec.model import PlatformSpec


@dataclass(frozen=True)
class Person:
    email: str
    roles: frozenset[str]
    teams: frozenset[str]  # teams the person owns or belongs to

    def has(self, role: str) -> bool:
        return role in self.roles


def people(spec: PlatformSpec) -> dict[str, Person]:
    """Every person the spec names, by normalised email, with their roles."""
    roles: dict[str, set[str]] = {}
    teams: dict[str, set[str]] = {}

    def add(email: str, role: str, team: str | None = None) -> None:
        key = normal(email)
        roles.setdefault(key, set()).add(role)
        teams.setdefault(key, set())
        if team:
            teams[key].add(team)

    for team in spec.teams:
        for email in team.owners:
            add(email, TEAM_OWNER, team.name)
        for email in team.members:
            add(email, TEAM_MEMBER, team.name)
    gov = spec.governance.people
    for role, emails in (
        (APPROVER, gov.approvers),
        (AUDITOR, gov.auditors),
        (MANAGER, gov.managers),
        (PLATFORM_ADMIN, gov.platform_admins),
    ):
        for email in emails:
            add(email, role)
    return {e: Person(e, frozenset(roles[e]), frozenset(teams[e])) for e in roles}


def person(spec: PlatformSpec, email: str) -> Person | None:
    return people(spec).get(normal(email))


def team_people(spec: PlatformSpec, team: str) -> set[str]:
    """Owners and members of a team (normalised emails); nobody for a team the spec does not know."""
    try:
        t = spec.team(team)
    except KeyError:
        return set()
    return {normal(e) for e in (*t.owners, *t.members)}
