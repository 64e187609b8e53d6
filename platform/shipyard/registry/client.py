"""The registry service for its callers: the HTTP client (:mod:`shipyard.clients.registry`, re-exported
here) and the lines a CI log shows for a submit's verdict."""

from __future__ import annotations

from shipyard.clients.registry import (
    call,
    champions,
    project_facts,
    registry_url,
    reproduce,
    set_tier,
    submit,
    validation_set,
    version_action,
)
from shipyard.errors import RegistryRefused

__all__ = [
    "RegistryRefused",
    "call",
    "format_verdict",
    "champions",
    "project_facts",
    "registry_url",
    "reproduce",
    "set_tier",
    "submit",
    "validation_set",
    "version_action",
]


def format_verdict(result: dict) -> list[str]:
    """The lines a CI log shows: outcome, both models' metrics on one dataset, the reasons."""
    v = result["verdict"]
    lines = [
        f"platform gate: {'PASSED' if v['passed'] else 'FAILED'} ({result['outcome']}"
        + (f", version {result['version']}" if result.get("version") else "")
        + f"; branch {result['branch']}, default {result['default_branch']})",
        f"  evaluation data: {v['eval_rows']} rows, sha256 {v['eval_hash'][:16]}",
    ]
    champion = v.get("champion") or {}
    for metric, value in v["candidate"].items():
        other = champion.get(metric)
        vs = (
            f"   champion v{v['champion_version']}: {other:.4f}   diff {value - other:+.4f}"
            if other is not None
            else ""
        )
        lines.append(f"  {metric:<10} candidate: {value:.4f}{vs}")
    other = v.get("validation")
    if other:
        lines.append(
            f"  independent validation set: {other['rows']} rows, sha256 {other['sha256'][:16]}, "
            f"registered by {other['registered_by']}"
        )
        for metric, value in other["candidate"].items():
            theirs = (other.get("champion") or {}).get(metric)
            vs = f"   champion: {theirs:.4f}   diff {value - theirs:+.4f}" if theirs is not None else ""
            lines.append(f"  {metric:<10} candidate: {value:.4f}{vs}")
    lines += [f"  {reason}" for reason in v["reasons"]]
    if result["outcome"] == "unchanged":
        lines.append(
            f"  same data, parameters and code as version {result['version']}: recorded, not registered again"
        )
    t = result.get("timings") or {}
    if t:
        lines.append(
            "  platform gate time: "
            + ", ".join(f"{k} {t[k]:.2f}s" for k in ("lineage", "load", "scoring", "registry") if k in t)
        )
    return lines
