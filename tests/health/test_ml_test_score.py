"""The ML Test Score rubric on evidence built in memory (pure scoring; the pages test it on real MLflow)."""

from __future__ import annotations

import datetime as dt

from shipyard import tags
from shipyard.health import SECTIONS, TESTS, Evidence, score
from shipyard.records import CiRun, ModelVersion, Project, RegisteredModel, TrainingRun

NOW = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)


def project(**extra: str) -> Project:
    return Project("p", "1", "team", "high", "o@example.com", tags=dict(extra))


def test_rubric_has_28_tests_in_four_sections_of_seven():
    assert len(TESTS) == 28 and len({t.id for t in TESTS}) == 28
    assert {s: sum(1 for t in TESTS if t.section == s) for s in SECTIONS} == dict.fromkeys(SECTIONS, 7)


def test_nothing_seen_scores_zero_and_says_what_would_count():
    card = score(Evidence(project(), [], [], [], [], now=NOW))
    assert card.score == 0 and len(card.missing) == 28
    assert all(r.evidence.startswith("would count:") for r in card.missing)


def test_documented_manual_tests_count_half_and_final_is_the_weakest_section():
    documented = {f"{tags.MLTEST_PREFIX}{t.id}": "https://wiki/x" for t in TESTS if t.section != "monitoring"}
    documented[f"{tags.MLTEST_PREFIX}monitoring-1"] = "https://wiki/alerts"
    card = score(Evidence(project(**documented), [], [], [], [], now=NOW))
    assert card.sections == {"data": 3.5, "model": 3.5, "infrastructure": 3.5, "monitoring": 0.5}
    assert card.score == 0.5


def test_automated_evidence_counts_one():
    ci = CiRun("ci1", "p", "passed", "abc", "main", "shipyard", ("lint", "test", "data-checks", "repro"), "",
               NOW, NOW)  # fmt: skip
    run = TrainingRun("r1", "p", "ci1", "abc", "md5", "data/x", "", "m6i.large", 0, "passed", "", NOW,
                   {"accuracy": 0.9}, {})  # fmt: skip
    v = ModelVersion("p", 1, "p", "r1", "md5", "abc", "passed", "", (), (), (tags.CHAMPION,), "", NOW, "", "")
    card = score(
        Evidence(project(), [ci], [run], [v], [RegisteredModel("p", "p", {tags.CHAMPION: 1})], now=NOW)
    )
    got = {r.id for r in card.results if r.how == "automated"}
    assert {"data-1", "data-6", "data-7", "model-1", "infrastructure-1", "infrastructure-2",
            "infrastructure-3", "infrastructure-4", "monitoring-4"} == got  # fmt: skip
    # a failed CI run is not evidence
    failed = CiRun("ci2", "p", "failed", "abc", "main", "shipyard", ci.steps, "test", NOW, NOW)
    card = score(Evidence(project(), [failed], [], [], [], now=NOW))
    assert card.sections["data"] == 0


def test_the_champions_last_reproduction_decides_infrastructure_1():
    run = TrainingRun("r1", "p", "ci1", "abc", "md5", "data/x", "", "m6i.large", 0, "passed", "", NOW,
                      {"accuracy": 0.9}, {})  # fmt: skip

    def infra_1(result: str | None):
        t = {tags.REPRODUCED: result, tags.REPRODUCED_AT: "2026-12-07T10:00:00", tags.REPRODUCED_BY: "v@x"}
        v = ModelVersion("p", 1, "p", "r1", "md5", "abc", "passed", "", (), (), (tags.CHAMPION,), "", NOW,
                         "", "", tags=t if result else {})  # fmt: skip
        card = score(Evidence(project(), [], [run], [v], [], now=NOW))
        return next(r for r in card.results if r.id == "infrastructure-1")

    passed = infra_1("passed")
    assert passed.points == 1 and passed.evidence == "champion v1 reproduced ✔ 2026-12-07 by v@x"
    assert infra_1("failed").points == 0  # a failed reproduction is not evidence, whatever the lineage
    never = infra_1(None)
    assert never.points == 1 and "not reproduced yet" in never.evidence
