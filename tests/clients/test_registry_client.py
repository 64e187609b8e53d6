"""The registry client puts only a model's name into a URL path, never a path of the caller's."""

from __future__ import annotations

import pytest
from shipyard.clients import registry
from shipyard.errors import BadInput
from shipyard.identity.credentials import Credentials


@pytest.mark.parametrize("name", ["../x", "a/b", "Bad Name", "", "x" * 41, "-x"])
def test_a_name_that_is_not_a_model_name_is_refused_before_any_call(name, monkeypatch):
    monkeypatch.setattr(registry, "call", lambda *a, **k: pytest.fail("no call may be made"))
    creds = Credentials("a@example.com", "pw")
    for send in (
        lambda: registry.version_action("http://127.0.0.1:1", creds, name, 1, "promote"),
        lambda: registry.reproduce("http://127.0.0.1:1", creds, name, 1),
        lambda: registry.validation_set("http://127.0.0.1:1", creds, name, "a,b\n", "v.csv"),
    ):
        with pytest.raises(BadInput, match="is not a model name"):
            send()


def test_a_model_name_goes_into_the_path(monkeypatch):
    seen = []
    monkeypatch.setattr(registry, "call", lambda url, creds, path, *a, **k: seen.append(path) or {})
    registry.version_action("http://r", Credentials("a@example.com", "pw"), "screening-demo", 3, "promote")
    assert seen == ["/models/screening-demo/versions/3/promote"]
