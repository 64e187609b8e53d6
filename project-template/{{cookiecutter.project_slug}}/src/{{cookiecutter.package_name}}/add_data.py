"""`make add-data DATA=path/to/file.csv TARGET=price`: your own data as the project's source.

Copies the CSV to data/raw/, tracks it with DVC (`dvc add`), points params.yaml `data.source` at it,
writes a draft schema.yaml inferred from the data (numeric columns with their observed range,
text columns as categories with their values, the target you named) and pushes the data to the
team's DVC remote, so that CI (which pulls exactly the tracked data) trains on the same bytes.
Review schema.yaml before you commit: the ranges are only what this file happens to hold.
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import yaml

from . import config

MAX_CATEGORIES = 50  # a text column with more distinct values is likely an id or free text
MAX_CLASSES = 20  # a classification target with more distinct values is likely a regression one


def fail(message: str, fix: str) -> None:
    print(f"error: {message}\n  fix: {fix}", file=sys.stderr)
    raise SystemExit(2)


def _number(value, down: bool | None = None) -> int | float:
    """A plain YAML number: an integer as is, else 6 decimals, rounded outwards for a bound (``down``:
    a minimum) so that the data's own extremes stay inside the range."""
    value = float(value)
    if value.is_integer():
        return int(value)
    if down is None:
        return round(value, 6)
    bound = (math.floor if down else math.ceil)(value * 1e6) / 1e6
    return bound if (bound <= value if down else bound >= value) else bound + (-1e-6 if down else 1e-6)


def column_rule(values: pd.Series) -> dict:
    """A column's draft rule: a category with its values, else a number with its observed range."""
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        allowed = sorted(values.dropna().astype(str).unique().tolist())
        return {"type": "category", "allowed": allowed}
    return {"min": _number(values.min(), down=True), "max": _number(values.max(), down=False)}


def infer_schema(frame: pd.DataFrame, target: str, task: str) -> tuple[dict, list[str]]:
    """schema.yaml's content for ``frame`` with label ``target``, and notes for the person to review."""
    notes: list[str] = []
    columns = {}
    for name in frame.columns:
        if name in (target, config.ROW_ID):
            continue
        rule = column_rule(frame[name])
        if rule.get("type") == "category" and len(rule["allowed"]) > MAX_CATEGORIES:
            notes.append(
                f"column '{name}': {len(rule['allowed'])} distinct values (an id? drop it from the CSV)"
            )
        if frame[name].isna().any():
            notes.append(
                f"column '{name}': {int(frame[name].isna().sum())} empty values (data-check refuses them)"
            )
        columns[str(name)] = rule
    labels = frame[target].dropna()
    if task == "classification":
        classes = sorted(labels.unique().tolist(), key=str)
        if len(classes) > MAX_CLASSES:
            fail(
                f"target {target!r} has {len(classes)} distinct values: not classes of a classification",
                "pick the label column, or a regression project (shipyard new --task regression)",
            )
        rule = {
            "name": target,
            "allowed": [_number(c) if isinstance(c, int | float) else str(c) for c in classes],
        }
    else:
        if not pd.api.types.is_numeric_dtype(labels):
            fail(
                f"target {target!r} is not numeric: a regression project predicts a number",
                "pick a numeric column, or a classification project (shipyard new --task classification)",
            )
        rule = {"name": target, "min": _number(labels.min(), True), "max": _number(labels.max(), False)}
    return {"columns": columns, "target": rule}, notes


SCHEMA_HEADER = """\
# The data contract `make data-check` enforces on data/prepared/dataset.csv: every column listed must
# be present and non-empty, and no other column may appear (row_id is the platform's). A column is
# numeric inside [min, max], or categorical: `city: {type: category, allowed: [paris, lyon]}` (one-hot
# encoded by `featurize`). The target must take allowed values.
# Drafted by `make add-data` from %s: review the ranges and categories before committing.
"""


def set_source(params_text: str, source: str) -> str:
    """params.yaml with ``data.source`` set, its comments kept."""
    pattern = re.compile(r"^(data:\n(?:[ \t]*#.*\n|[ \t]+.*\n)*?[ \t]+source:)[^\n]*$", re.MULTILINE)
    if not pattern.search(params_text):
        fail("params.yaml has no data.source to set", "restore `data:` with `source:` from the template")
    return pattern.sub(lambda m: f"{m.group(1)} {source}", params_text, count=1)


def run(*args: str) -> None:
    print("$", " ".join(args))
    proc = subprocess.run([sys.executable, "-m", *args], cwd=config.ROOT)
    if proc.returncode != 0:
        raise SystemExit(proc.returncode)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make add-data", description=__doc__.splitlines()[0])
    parser.add_argument("data", help="the CSV file (DATA=...)")
    parser.add_argument("target", help="the column to predict (TARGET=...)")
    parser.add_argument("--no-push", action="store_true", help="do not push the data to the DVC remote")
    args = parser.parse_args(argv)
    if not args.data:
        fail("no data file given", "make add-data DATA=path/to/data.csv TARGET=column_to_predict")
    if not args.target:
        fail("no target column given", f"make add-data DATA={args.data} TARGET=column_to_predict")
    source = Path(args.data).expanduser()
    if not source.is_file():
        fail(f"DATA={args.data}: no such file", "pass the path of a CSV file, e.g. DATA=~/houses.csv")
    try:
        frame = pd.read_csv(source)
    except (ValueError, UnicodeDecodeError) as exc:
        fail(
            f"DATA={args.data} is not a readable CSV: {str(exc).splitlines()[0]}",
            "pass a CSV with a header row",
        )
    if args.target not in frame.columns:
        fail(f"TARGET={args.target}: no such column in {source.name}",
             f"one of: {', '.join(map(str, frame.columns))}")  # fmt: skip
    task = config.params()["task"]
    schema, notes = infer_schema(frame, args.target, task)

    dest = config.RAW / source.name
    relative = dest.relative_to(config.ROOT).as_posix()
    dest.parent.mkdir(parents=True, exist_ok=True)
    if source.resolve() != dest.resolve():
        shutil.copyfile(source, dest)
    (config.ROOT / "schema.yaml").write_text(
        SCHEMA_HEADER % relative + yaml.safe_dump(schema, sort_keys=False, default_flow_style=None)
    )
    params_file = config.ROOT / "params.yaml"
    params_file.write_text(set_source(params_file.read_text(), relative))
    print(
        f"{relative}: {len(frame)} rows, {len(schema['columns'])} features, target {args.target!r} ({task})"
    )
    print("schema.yaml: drafted from the data (review it); params.yaml: data.source =", relative)
    for note in notes:
        print(f"  note: {note}")
    run("dvc", "add", relative)
    if not args.no_push:
        run(f"{config.__package__}.remote")
        run("dvc", "push", f"{relative}.dvc")
    print(
        "Next:\n"
        f"  git add {relative}.dvc data/raw/.gitignore schema.yaml params.yaml\n"
        "  make data-check && make test      # then commit and push: CI pulls the data and trains"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
