"""Price a frame of runs and roll it up: vectorised, so 100,000 runs take milliseconds.

A run frame has one row per run with the columns in ``RUN_COLUMNS``. Pricing rule: the instance
type's hourly price covers the whole machine (its GPUs included); only when the instance type has
no price and a GPU type is tagged is the run priced at ``gpu_count x gpu_hour[gpu_type]``. Anything
else is *unpriced*: its cost counts as 0 and it is reported, never dropped. Runs are priced on
demand (a run does not record spot capacity).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from shipyard.spec.pricing import Pricing

RUN_COLUMNS = ["run_id", "team", "project", "model", "kind", "start", "month", "hours", "instance_type",
               "gpu_type", "gpu_count"]  # fmt: skip
KEYS = {"team": ["team"], "project": ["team", "project"], "model": ["team", "project", "model"]}
SUMS = ["cost", "gpu_hours", "runs", "unpriced_runs"]
NO_INSTANCE = "no instance type tagged"
NO_PRICE = "instance type has no price in pricing.instance_hour (and no priced gpu_type)"


def price_runs(runs: pd.DataFrame, pricing: Pricing, local_instance_type: str | None = None) -> pd.DataFrame:
    """The run frame plus ``hourly``, ``cost``, ``gpu_hours``, ``unpriced`` and ``unpriced_reason``."""
    instance_price = _lookup(runs["instance_type"], pricing.instance_hour, local_instance_type)
    gpu_count = pd.to_numeric(runs["gpu_count"], errors="coerce").to_numpy(float)
    gpu_count = np.nan_to_num(gpu_count)
    gpu_price = _lookup(runs["gpu_type"], pricing.gpu_hour) * gpu_count
    gpu_price[gpu_count <= 0] = np.nan
    hourly = np.where(np.isnan(instance_price), gpu_price, instance_price)
    hours = runs["hours"].to_numpy(float)
    unpriced = np.isnan(hourly)
    out = runs.copy(deep=False)
    out["hourly"] = hourly
    out["cost"] = hours * np.where(unpriced, 0.0, hourly)
    out["gpu_hours"] = hours * gpu_count
    out["unpriced"] = unpriced
    reason = np.full(len(out), "", dtype=object)
    if unpriced.any():
        missing = runs["instance_type"].isna().to_numpy() | (runs["instance_type"].to_numpy() == "")
        reason[unpriced] = np.where(missing[unpriced], NO_INSTANCE, NO_PRICE)
    out["unpriced_reason"] = reason
    return out


def rollup(
    priced: pd.DataFrame, by: str = "model", monthly: bool = True, keys: list[str] | None = None
) -> pd.DataFrame:
    """Sum cost, GPU hours, runs and unpriced runs per ``by`` key (and month), or per ``keys`` columns.

    Groups by integer codes (one ``factorize`` per key column, combined into one integer key, one
    ``bincount`` per sum) instead of a multi-column ``groupby``: linear passes, no sorting.
    """
    keys = keys or KEYS[by] + (["month"] if monthly else [])
    n = len(priced)
    if n == 0:
        return pd.DataFrame({column: pd.Series(dtype=object) for column in keys} | {s: [] for s in SUMS})
    combined = np.zeros(n, dtype=np.int64)
    factors = []
    for column in keys:
        codes, labels = pd.factorize(priced[column], sort=False, use_na_sentinel=False)
        combined = combined * len(labels) + codes
        factors.append(np.asarray(labels, dtype=object))
    inverse, groups = pd.factorize(combined, sort=False)  # hashing: one pass, no sort
    size = len(groups)
    data: dict[str, np.ndarray] = {}
    rest = np.asarray(groups, dtype=np.int64)
    for column, labels in reversed(list(zip(keys, factors, strict=True))):  # decode the mixed-radix key
        rest, code = np.divmod(rest, len(labels))
        data[column] = labels[code]
    data = {column: data[column] for column in keys}
    for column, weights in (
        ("cost", priced["cost"]),
        ("gpu_hours", priced["gpu_hours"]),
        ("runs", None),
        ("unpriced_runs", priced["unpriced"]),
    ):
        w = None if weights is None else weights.to_numpy(float)
        data[column] = np.bincount(inverse, weights=w, minlength=size)
    data["runs"] = data["runs"].astype(np.int64)
    data["unpriced_runs"] = data["unpriced_runs"].astype(np.int64)
    return pd.DataFrame(data)


def _lookup(values: pd.Series, prices: dict[str, float], local: str | None = None) -> np.ndarray:
    """Price per row via the distinct values only (a handful of instance types, not 100,000 lookups)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.array(
        [prices.get(local if (local and u == "local") else u, np.nan) for u in uniques] + [np.nan],
        dtype=float,
    )
    return table[codes]  # code -1 (missing) picks the trailing NaN
