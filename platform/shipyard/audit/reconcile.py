"""Out-of-band detection, on each read: registry state in MLflow that no audit event explains.

- ``champion`` points at a version no promote/rollback event put there last;
- ``challenger`` points at a version no registration event made;
- a version of a governed model that no registration event made;
- the approvals tag of a version differs from the approvals in the log;
- a model the registry never registered carries the alias ``champion`` (an ungoverned champion);
- a project's team, risk tier or owner tag differs from the registry's record (``project.facts``).
- a file of a version that holds ``champion`` or ``challenger`` (what anyone loads by alias) differs
  from the sha256 its registration recorded (``shipyard audit verify --deep`` re-hashes every version).
Each finding is appended once (a finding with the same key is not repeated)."""

from __future__ import annotations

from dataclasses import dataclass

from shipyard import tags
from shipyard.audit import names as audit
from shipyard.audit.store import AuditStore, Event
from shipyard.records import MlflowApi
from shipyard.records.parse import parse_model_version, parse_registered_model


@dataclass(frozen=True)
class Finding:
    key: str
    model: str
    version: str
    what: str


def expected_state(events: list[Event]) -> dict[str, dict]:
    """Per model: champion, challenger, registered versions, approvals, as the log says."""
    models: dict[str, dict] = {}
    for e in events:
        if not e.model:
            continue
        m = models.setdefault(
            e.model, {"champion": None, "challenger": None, "versions": set(), "approvals": {}}
        )
        if e.action == audit.SUBMIT_REGISTERED:
            m["versions"].add(e.version)
            m["challenger"] = e.version
        elif e.action in (audit.PROMOTE, audit.ROLLBACK):
            m["champion"] = e.version
            if m["challenger"] == e.version:
                m["challenger"] = None
        elif e.action in (audit.REJECT, audit.RETIRE) and m["challenger"] == e.version:
            m["challenger"] = None
        elif e.action == audit.APPROVE:
            m["approvals"].setdefault(e.version, []).append(e.actor)
    return models


def findings(store: AuditStore, tracking_uri: str) -> list[Finding]:
    api = MlflowApi(tracking_uri)  # every page: a platform with over a thousand models is checked whole
    events = store.events()
    expected = expected_state(events)
    found: list[Finding] = []
    aliased: set[tuple[str, str]] = set()
    for rm in map(parse_registered_model, api.search_registered_models()):
        if rm.name not in expected and tags.CHAMPION in rm.aliases:
            found.append(Finding(
                f"ungoverned:{rm.name}:{rm.aliases[tags.CHAMPION]}", rm.name, str(rm.aliases[tags.CHAMPION]),
                f"model {rm.name} has a champion (v{rm.aliases[tags.CHAMPION]}) but the registry never "
                "registered it: an ungoverned champion, never a project's",
            ))  # fmt: skip
        if not rm.tags.get(tags.PROJECT):
            continue  # not a model the platform governs
        want = expected.get(
            rm.name, {"champion": None, "challenger": None, "versions": set(), "approvals": {}}
        )
        aliases = {a: str(v) for a, v in rm.aliases.items()}
        aliased |= {(rm.name, aliases[a]) for a in (tags.CHAMPION, tags.CHALLENGER) if a in aliases}
        for alias in (tags.CHAMPION, tags.CHALLENGER):
            have, should = aliases.get(alias), want[alias]
            if have != should:
                found.append(Finding(
                    f"alias:{rm.name}:{alias}:{have}", rm.name, have or "",
                    f"alias {alias!r} points at {_v(have)} in MLflow, but the audit log says {_v(should)}: "
                    "moved outside the platform",
                ))  # fmt: skip
        for raw in api.search_model_versions(f"name = '{rm.name}'"):
            mv = parse_model_version(raw, rm)
            version = str(mv.version)
            if version not in want["versions"]:
                found.append(Finding(
                    f"version:{rm.name}:{version}", rm.name, version,
                    f"version {version} was created outside the platform (no registration event)",
                ))  # fmt: skip
                continue
            tagged = list(mv.approved_by)
            logged = want["approvals"].get(version, [])
            if tagged != logged:
                found.append(Finding(
                    f"approvals:{rm.name}:{version}:{','.join(tagged)}", rm.name, version,
                    f"the approvals tag of v{version} reads {tagged or 'nothing'}, "
                    f"the audit log {logged or 'nothing'}",
                ))  # fmt: skip
    found += fact_findings(api, events)
    return found + _changed_files(store, api, aliased)


def fact_findings(api: MlflowApi, events: list[Event]) -> list[Finding]:
    """Each project tag (team, risk tier, owner) that differs from the registry's record."""
    from shipyard.audit import facts
    from shipyard.records.parse import kv

    known = facts.known(events)
    found = []
    for exp in api.search_experiments():
        exp_tags = kv(exp.get("tags"))
        project = exp_tags.get(tags.PROJECT)
        if not project or project not in known or exp.get("name") != project:
            continue
        for tag, (copy, fact) in facts.differing_copies(known[project], exp_tags).items():
            found.append(Finding(
                f"facts:{project}:{tag}:{copy}", project, "",
                f"project {project}'s tag {tag} reads {copy!r}, the registry's record {fact!r}: "
                "the copy was changed outside the platform and is not used",
            ))  # fmt: skip
    return found


def _changed_files(store: AuditStore, api: MlflowApi, versions: set[tuple[str, str]]) -> list[Finding]:
    from shipyard.audit.artifacts import check

    return [Finding(c.key, c.model, c.version, c.describe()) for c in check(store, api, versions).changes]


def _v(version: str | None) -> str:
    return f"v{version}" if version else "nothing"


def reconcile(store: AuditStore, tracking_uri: str, actor: str = "shipyard-reconcile") -> list[Event]:
    """Append each new finding as an event; returns the events appended now."""
    known = {e.details.get("key") for e in store.events(action=audit.FINDING)}
    appended = []
    for f in findings(store, tracking_uri):
        if f.key in known:
            continue
        project = f.model
        appended.append(
            store.append(actor, audit.FINDING, project, f.model, f.version, {"key": f.key, "what": f.what})
        )
    return appended


def open_findings(store: AuditStore, tracking_uri: str) -> list[Finding]:
    """Findings that hold now (a champion moved back through the platform is no longer one)."""
    return findings(store, tracking_uri)
