"""`make data-check`: the prepared data must match schema.yaml (columns, types, ranges, target values):
every listed column present, no unlisted one, numbers within [min, max], categories among ``allowed``.

Every problem names the column and the first offending rows, so a corrupted batch is easy to find.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from . import config

MAX_ROWS_SHOWN = 5


def _rows(mask: pd.Series) -> str:
    rows = [str(i) for i in mask[mask].index[:MAX_ROWS_SHOWN]]
    more = int(mask.sum()) - len(rows)
    return ", ".join(rows) + (f" and {more} more" if more > 0 else "")


def _check_category(name: str, values: pd.Series, rule: dict) -> list[str]:
    problems = []
    missing = values.isna()
    if missing.any():
        problems.append(f"column '{name}': {int(missing.sum())} empty values in rows {_rows(missing)}")
    allowed = [str(v) for v in rule.get("allowed", [])]
    bad = ~missing & ~values.astype(str).isin(allowed)
    if bad.any():
        problems.append(f"column '{name}': {int(bad.sum())} values not in {allowed} in rows {_rows(bad)}")
    return problems


def _check_column(name: str, values: pd.Series, rule: dict) -> list[str]:
    if rule.get("type") == "category":
        return _check_category(name, values, rule)
    problems = []
    numeric = pd.to_numeric(values, errors="coerce")
    missing = values.isna()
    if missing.any():
        problems.append(f"column '{name}': {int(missing.sum())} empty values in rows {_rows(missing)}")
    not_numeric = numeric.isna() & ~missing
    if not_numeric.any():
        problems.append(
            f"column '{name}': {int(not_numeric.sum())} non-numeric values in rows {_rows(not_numeric)}"
        )
    if "allowed" in rule:
        bad = numeric.notna() & ~numeric.isin(rule["allowed"])
        if bad.any():
            problems.append(
                f"column '{name}': {int(bad.sum())} values not in {rule['allowed']} in rows {_rows(bad)}"
            )
    low, high = rule.get("min"), rule.get("max")
    outside = numeric.notna() & (
        (numeric < low if low is not None else False) | (numeric > high if high is not None else False)
    )
    if outside.any():
        problems.append(
            f"column '{name}': {int(outside.sum())} values outside [{low}, {high}] in rows {_rows(outside)}"
        )
    return problems


def check(frame: pd.DataFrame, schema: dict) -> list[str]:
    """All problems of ``frame`` against ``schema``; empty when the data is fine."""
    expected = dict(schema["columns"])
    target = schema["target"]
    expected[target["name"]] = target
    missing = [c for c in expected if c not in frame.columns]
    problems = [f"column '{c}': missing from the data" for c in missing]
    unknown = [c for c in frame.columns if c not in expected and c != config.ROW_ID]
    problems += [
        f"column '{c}': not in schema.yaml (declare it with its type and range, or drop it from the source)"
        for c in unknown
    ]
    if frame.empty:
        problems.append("the data has no rows")
    for name, rule in expected.items():
        if name in frame.columns:
            problems += _check_column(name, frame[name], rule)
    return problems


def main(path: Path | None = None) -> int:
    path = path or config.PREPARED
    frame = pd.read_csv(path)
    problems = check(frame, config.schema())
    shown = path.relative_to(config.ROOT) if path.is_relative_to(config.ROOT) else path
    if problems:
        print(f"data check FAILED for {shown} ({len(problems)} problems):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        print(
            "  fix: correct the source data, or update schema.yaml if the change is intended", file=sys.stderr
        )
        return 1
    print(f"data check passed: {shown}, {len(frame)} rows, {frame.shape[1]} columns match schema.yaml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
