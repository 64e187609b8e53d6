"""The Health page: the scorecards a role sees, one summary row per project, and one project's
evidence split into what was seen and what is missing."""

from __future__ import annotations

from collections.abc import Mapping

from shipyard.health import SECTIONS, Scorecard
from shipyard.records.model import Snapshot


def project_owners(snap: Snapshot) -> dict[str, str]:
    """Project -> owner ("" when none is recorded)."""
    return {p.name: p.owner for p in snap.projects}


def owner_choices(owners: Mapping[str, str]) -> list[str]:
    return sorted({o for o in owners.values() if o})


def cards_of(
    cards: Mapping[str, Scorecard], owners: Mapping[str, str], owner: str | None
) -> dict[str, Scorecard]:
    """The scorecards of ``owner``'s projects."""
    return {k: v for k, v in cards.items() if owners.get(k) == owner}


def summary(cards: Mapping[str, Scorecard]) -> list[dict[str, object]]:
    return [
        {
            "project": c.project,
            "score": c.score,
            **{s: c.sections[s] for s in SECTIONS},
            "automated": sum(1 for r in c.results if r.how == "automated"),
            "manual": sum(1 for r in c.results if r.how == "manual"),
            "missing": len(c.missing),
        }
        for c in cards.values()
    ]


def seen_rows(card: Scorecard) -> list[dict[str, object]]:
    """The tests the platform found evidence for (automated or documented by hand)."""
    return [
        {"test": r.id, "title": r.title, "points": r.points, "how": r.how, "evidence": r.evidence}
        for r in card.results
        if r.how != "missing"
    ]


def missing_rows(card: Scorecard) -> list[dict[str, object]]:
    """The tests without evidence, and what would count."""
    return [{"test": r.id, "title": r.title, "what would count": r.evidence} for r in card.missing]
