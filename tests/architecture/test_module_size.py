"""No module over 450 lines: a room that big holds more than one responsibility (split it by what it
does, as spec/, local/runner_* and registry/ are split)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 450
TREES = ("platform/shipyard", "portal", "infra")


def oversized(roots: list[Path], limit: int = MAX_LINES) -> list[str]:
    found = []
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > limit:
                found.append(
                    f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {lines} lines"
                )
    return found


def test_no_module_over_the_limit():
    assert oversized([ROOT / tree for tree in TREES]) == []


@pytest.mark.parametrize(("lines", "flagged"), [(MAX_LINES, False), (MAX_LINES + 1, True)])
def test_the_rule_flags_one_line_over(tmp_path, lines, flagged):
    (tmp_path / "big.py").write_text("x = 1\n" * lines)
    assert bool(oversized([tmp_path])) is flagged
