"""The registry follows its spec file without a restart and records governance changes."""

from __future__ import annotations

import os
from pathlib import Path

from shipyard.audit import names as audit
from shipyard.audit.store import AuditStore
from shipyard.registry.spec_watch import SpecWatch, audit_changes
from shipyard.spec import load_spec

REPO = Path(__file__).resolve().parents[2]


def _touch_later(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_a_changed_gate_applies_and_is_in_the_audit_log(tmp_path, capsys):
    spec_file = tmp_path / "platform.yaml"
    text = (REPO / "platform.yaml").read_text()
    spec_file.write_text(text)
    store = AuditStore.of(tmp_path)
    watch = SpecWatch(spec_file, load_spec(spec_file), audit_changes(store, spec_file))
    assert watch.current() is watch.spec  # unchanged: not read again
    _touch_later(spec_file, text.replace("{metric: r2, min: 0.30}", "{metric: r2, min: 0.55}"))
    gate = watch.current().governance.gates_for("regression")[0]
    assert gate.min == 0.55
    events = store.events(action=audit.GOVERNANCE_CHANGED)
    assert events and "gates" in events[-1].details["what"]
    _touch_later(spec_file, "governance: [not, valid\n")
    assert watch.current().governance.gates_for("regression")[0].min == 0.55  # the last valid spec
    assert "not valid, keeping the last spec" in capsys.readouterr().err


def test_each_http_request_sees_the_current_spec(tmp_path):
    import asyncio
    from types import SimpleNamespace

    from shipyard.registry.spec_watch import follow

    spec_file = tmp_path / "platform.yaml"
    text = (REPO / "platform.yaml").read_text()
    spec_file.write_text(text)
    registry = SimpleNamespace(spec=None)
    seen = []

    async def app(scope, receive, send):
        seen.append(registry.spec.governance.champion_tolerance)

    followed = follow(app, registry, SpecWatch(spec_file, load_spec(spec_file)))
    asyncio.run(followed({"type": "http"}, None, None))
    _touch_later(spec_file, text.replace("champion_tolerance: 0.01", "champion_tolerance: 0.02"))
    asyncio.run(followed({"type": "http"}, None, None))
    assert seen == [0.01, 0.02]
