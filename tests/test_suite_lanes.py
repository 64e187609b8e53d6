"""The suite's own scheduling (tests/conftest.py): every unit it names exists, so a renamed file is not
silently dropped to the back of the queue."""

from __future__ import annotations

from tests.conftest import HEAVY, REPO, SHARED_DIRS, _lanes, _rank, _scope


def test_every_named_unit_exists():
    missing = [unit for unit in (*SHARED_DIRS, *HEAVY) if not (REPO / unit).exists()]
    assert missing == []


def test_heavy_units_are_whole_units_and_the_platform_lanes_come_first():
    lanes = _lanes(REPO)
    assert {"platform", "registry"} <= set(lanes.values())
    for unit in HEAVY:
        # a file inside a shared directory or a platform lane is not a unit of its own: naming it does nothing
        assert unit in SHARED_DIRS or _scope(lanes, unit) == unit, unit
    ranks = [_rank(unit) for unit in ("platform", "registry", *HEAVY)]
    assert ranks == sorted(ranks) and _rank("tests/some_new_file.py") > max(ranks)
