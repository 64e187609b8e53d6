"""A project's governance facts (team, risk tier, owner) as the registry keeps them.

They are ``project.facts`` events in the registry's own audit log, appended only by the registry
service: when a project is provisioned (the platform admin's account tells it), when
``shipyard project set-tier`` changes the tier (a platform admin, or an approver outside the project's
team), or, for a project from before the registry kept facts, imported once from its MLflow tags on
first use (the event says so). The experiment's MLflow tags are copies the registry writes for people
to read; anyone with EDIT on the experiment can change them, so a copy that differs is a finding
(:mod:`shipyard.audit.reconcile`) and never used for a decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from shipyard import tags
from shipyard.audit import names as audit
from shipyard.audit.store import AuditStore, Event
from shipyard.errors import UserError
from shipyard.identity.names import APPROVER, PLATFORM_ADMIN, normal
from shipyard.identity.people import person
from shipyard.records import MlflowApi
from shipyard.spec.model import PlatformSpec

PROVISIONED = "provisioned"
IMPORTED = "imported from MLflow tags"  # a project from before the registry kept its facts
SET_TIER = "set-tier"
COPIES = {"team": tags.TEAM, "tier": tags.RISK_TIER, "owner": tags.OWNER}  # fact -> its MLflow tag


@dataclass(frozen=True)
class ProjectFacts:
    project: str
    team: str
    tier: str
    owner: str

    def as_dict(self) -> dict[str, str]:
        return {"team": self.team, "tier": self.tier, "owner": self.owner}

    @classmethod
    def of(cls, event: Event) -> ProjectFacts:
        d = event.details
        return cls(event.project, str(d.get("team", "")), str(d.get("tier", "")), str(d.get("owner", "")))

    @classmethod
    def from_tags(cls, project: str, exp_tags: dict[str, str]) -> ProjectFacts:
        return cls(project, *(exp_tags.get(tag, "") for tag in COPIES.values()))


def known(events: list[Event]) -> dict[str, ProjectFacts]:
    """Every project's facts, the latest event of each."""
    return {e.project: ProjectFacts.of(e) for e in events if e.action == audit.PROJECT_FACTS}


def current(store: AuditStore, project: str) -> ProjectFacts | None:
    events = store.events(project=project, action=audit.PROJECT_FACTS)
    return ProjectFacts.of(events[-1]) if events else None


def record(store: AuditStore, actor: str, facts: ProjectFacts, source: str,
           before: ProjectFacts | None = None, reason: str = "") -> Event:  # fmt: skip
    details = {**facts.as_dict(), "source": source, "before": before.as_dict() if before else None}
    if reason:
        details["reason"] = reason
    return store.append(actor, audit.PROJECT_FACTS, facts.project, "", "", details)  # no model: not a history


def differing_copies(facts: ProjectFacts, exp_tags: dict[str, str]) -> dict[str, tuple[str | None, str]]:
    """MLflow tag -> (the copy's value, the registry's) for each copy that differs."""
    want = facts.as_dict()
    pairs = ((tag, exp_tags.get(tag), want[fact]) for fact, tag in COPIES.items())
    return {tag: (copy, value) for tag, copy, value in pairs if copy != value}


def mirror(api: MlflowApi, experiment_id: str, facts: ProjectFacts, exp_tags: dict[str, str]) -> bool:
    """Write the copies as the registry account; False when MLflow refuses (the experiment grants the
    registry no EDIT: a project provisioned before it did; reconcile then names the stale copy)."""
    try:
        for tag, (_, value) in differing_copies(facts, exp_tags).items():
            api.set_experiment_tag(experiment_id, tag, value)
    except UserError:
        return False
    return True


def may_set_tier(spec: PlatformSpec, caller: str, team_people: set[str]) -> str | None:
    """None when ``caller`` may change a project's risk tier, else why not.

    A platform admin, or an approver outside the project's team: the approvers are the platform's
    independent model-risk function (they validate the models of teams they are not in), and the
    tier is a model-risk decision; the team itself never re-tiers its own project."""
    who = person(spec, caller)
    if who is not None and who.has(PLATFORM_ADMIN):
        return None
    if who is not None and who.has(APPROVER) and normal(caller) not in team_people:
        return None
    if who is not None and who.has(APPROVER):
        return f"{caller} is in the project's team: its risk tier is set by someone independent of it"
    return f"{caller} may not change risk tiers: a platform admin or an approver outside the team can"
