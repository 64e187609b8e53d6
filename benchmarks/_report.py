"""Shared by the benchmarks: every figure is printed with its goal and PASS/FAIL, and kept for the table
that `./dev bench` prints at the end (`python benchmarks/_report.py`).

Each benchmark writes its figures to benchmarks/results/<benchmark>.figures.json (replacing its last
run's); the table reads them all, so a benchmark run alone (`./dev bench NAME`) updates its rows only.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Figure:
    benchmark: str
    name: str
    value: float | None  # None: not measured (the benchmark failed before this figure)
    unit: str
    goal: str  # as a person reads it, e.g. "<= 0.4 s"
    passed: bool | None  # None: a figure shown for context, without a goal of its own

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "-"}[self.passed]

    def line(self) -> str:
        if self.value is None:
            value = "n/a"
        else:
            value = f"{self.value:,.3g}" if abs(self.value) < 10 else f"{self.value:,.1f}"
        return f"{self.benchmark:16} {self.name:40} {value:>9} {self.unit:<3} {self.goal:<26} {self.verdict}"


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} / {five:.2f} (1 / 5 min), {os.cpu_count()} CPUs"


def write(benchmark: str, figures: list[Figure]) -> None:
    """Print ``figures`` and keep them for the summary table."""
    print(f"\n{benchmark}: {load_note()}")
    for figure in figures:
        print("  " + figure.line())
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load": load_note(),
        "figures": [asdict(f) for f in figures],
    }
    (RESULTS / f"{benchmark}.figures.json").write_text(json.dumps(record, indent=2))


def goal_le(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def summary() -> int:
    files = sorted(RESULTS.glob("*.figures.json"))
    if not files:
        print("no benchmark results yet: ./dev bench")
        return 0
    rows: list[Figure] = []
    print(f"{'benchmark':16} {'figure':40} {'value':>9} {'':3} {'goal':<26} verdict")
    for path in files:
        record = json.loads(path.read_text())
        for data in record["figures"]:
            rows.append(Figure(**data))
            print(rows[-1].line())
        print(f"{'':16} (measured {record['measured_at']}, {record['load']})")
    goals = [r for r in rows if r.passed is not None]
    met = sum(1 for r in goals if r.passed)
    print(f"\n{met} of {len(goals)} goals met")
    return 0  # a report, not a gate


if __name__ == "__main__":
    sys.exit(summary())
