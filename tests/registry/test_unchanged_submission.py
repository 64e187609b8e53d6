"""A CI run that trains the same model again (same data, parameters, code and scores as version 1,
e.g. after a template update that changes nothing the model is made from) registers nothing: the
registry records `submit.unchanged`, naming the version, and CI passes."""

from __future__ import annotations

import pytest
from shipyard.audit import names as audit
from shipyard.audit.store import AuditStore

from .conftest import new_project

pytestmark = [pytest.mark.services, pytest.mark.slow]


def test_the_same_model_again_is_recorded_not_registered(light_platform, tmp_path):
    p = new_project(light_platform)
    assert p.submit(p.job(tmp_path, depth=6))["version"] == "1"
    again = p.submit(p.job(tmp_path, depth=6))
    assert again["outcome"] == "unchanged" and again["version"] == "1" and again["passed"], again
    other = p.submit(p.job(tmp_path, depth=2))  # another model: registered as usual
    assert other["outcome"] in ("registered", "refused") and other["version"] != "1"
    events = AuditStore.of(light_platform.data_dir).events(model=p.name, action=audit.SUBMIT_UNCHANGED)
    assert [e.version for e in events] == ["1"]
