"""CLI start-up: `shipyard --help` and `shipyard status` (no platform running), median of several runs.

Each run is a fresh process, as a person typing the command gets; the figure is the median wall time.
Goal: <= 0.4 s each. What keeps it there: commands load lazily (shipyard.cli.lazy) and the status
path imports no pandas, MLflow or requests (tests/cli/test_lazy_commands.py).

    python benchmarks/cli_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import Figure, write  # noqa: E402

GOAL_S = 0.4


def timed(args: list[str], env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - t0)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    exe = Path(sys.executable).with_name("shipyard")
    if not exe.exists():
        print(f"no {exe}: ./dev setup", file=sys.stderr)
        return 1
    figures = []
    with tempfile.TemporaryDirectory(prefix="shipyard-cli-bench-") as tmp:
        env = {**os.environ, "SHIPYARD_HOME": str(Path(tmp) / "data")}  # nothing running there
        timed([str(exe), "--help"], env, 1)  # warm the page cache once
        for label, argv in (("shipyard --help", ["--help"]), ("shipyard status", ["status"])):
            times = timed([str(exe), *argv], env, args.runs)
            median = statistics.median(times)
            figures.append(
                Figure(
                    "cli_startup",
                    f"{label} (median of {args.runs})",
                    median,
                    "s",
                    f"<= {GOAL_S} s",
                    median <= GOAL_S,
                )  # fmt: skip
            )
    write("cli_startup", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
