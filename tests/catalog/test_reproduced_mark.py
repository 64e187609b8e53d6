"""The Models page's reproduction mark, from the version's ``shipyard.reproduce.*`` tags."""

from __future__ import annotations

import datetime as dt

from shipyard import tags
from shipyard.catalog.inventory import reproduced_mark
from shipyard.records import ModelVersion

NOW = dt.datetime(2026, 12, 7, tzinfo=dt.UTC)


def _version(**t: str) -> ModelVersion:
    return ModelVersion("m", 1, "m", "r", "md5", "abc", "passed", "", (), (), (), "", NOW, "", "", tags=t)


def test_the_mark_says_who_reproduced_the_version_and_when():
    at, by = "2026-12-07T10:00:00.000000+00:00", "validator@example.com"
    passed = _version(**{tags.REPRODUCED: "passed", tags.REPRODUCED_AT: at, tags.REPRODUCED_BY: by})
    assert reproduced_mark(passed) == "reproduced ✔ 2026-12-07 by validator@example.com"
    failed = _version(**{tags.REPRODUCED: "failed", tags.REPRODUCED_AT: at, tags.REPRODUCED_BY: by})
    assert reproduced_mark(failed).startswith("NOT reproduced ✘ 2026-12-07")
    assert reproduced_mark(_version()) == ""
