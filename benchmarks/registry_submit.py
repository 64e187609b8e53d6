"""registry_submit: push -> platform gate verdict (candidate and champion scored) -> version registered.

Runs P2 (benchmarks/push_to_model.py: a temp embedded platform, the default template, one push) and
splits the `register` step: the registry service's own split (lineage check, loading the two models,
scoring, registry writes) as it prints it into the CI log. Goal: the platform gate adds at most 25 %
to P2, i.e. register_s <= 0.25 * (push_to_registered_s - register_s).

    python benchmarks/registry_submit.py [--data-dir DIR] [--keep]

On the first push there is no champion: only the candidate is scored. Run with --keep and push a
second commit after promoting v1 to measure both models scored.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import push_to_model  # noqa: E402
from _report import Figure, write  # noqa: E402

GOAL_SHARE = 0.25
SPLIT = re.compile(r"platform gate time: (.*)$", re.M)


def gate_split(log: Path) -> dict:
    text = log.read_text(errors="replace") if log.exists() else ""
    match = SPLIT.search(text)
    if not match:
        return {"registry_split_s": None}
    parts = dict(p.strip().split(" ") for p in match.group(1).split(","))
    return {"registry_split_s": {k: float(v.rstrip("s")) for k, v in parts.items()}}


def main() -> int:
    push_to_model.extra = gate_split
    code = push_to_model.main()
    result = push_to_model.REPO / "benchmarks" / "results" / "push_to_model.json"
    if code or not result.exists():
        return code or 1
    report = json.loads(result.read_text())
    register_s = report["per_step_s"].get("register")
    rest = report["push_to_registered_s"] - (register_s or 0)
    report["benchmark"] = "registry_submit: push -> platform gate -> registered"
    report["register_s"] = register_s
    report["gate_share_of_p2"] = round(register_s / rest, 3) if register_s and rest > 0 else None
    report["goal_share"] = GOAL_SHARE
    report["meets_goal"] = report["gate_share_of_p2"] is not None and report["gate_share_of_p2"] <= GOAL_SHARE
    print(json.dumps(report, indent=2))
    (result.parent / "registry_submit.json").write_text(json.dumps(report, indent=2))
    share = report["gate_share_of_p2"]
    figures = [
        Figure("registry_submit", "register step (platform gate)", register_s, "s", "-", None),
        Figure(
            "registry_submit",
            "gate / rest of P2",
            share,
            "x",
            f"<= {GOAL_SHARE} x",
            None if share is None else share <= GOAL_SHARE,
        ),
    ]
    for part, seconds in (report.get("registry_split_s") or {}).items():
        figures.append(Figure("registry_submit", f"gate: {part}", seconds, "s", "-", None))
    write("registry_submit", figures)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
