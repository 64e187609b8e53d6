"""The note of a registry action is never cut and a judgement needs one (issue 35, item 7): a reject,
retire or comment with an empty note is refused, a 100,000-character note is refused with the limit
named (it was cut to 2,000 silently), and rejecting the champion says what happens to it (it stays
champion until another version is promoted). The CLI checks before it calls; the registry service
checks the request again, against real MLflow and the real service on the light embedded platform."""

from __future__ import annotations

import pytest
import requests
from shipyard.registry.notes import MAX_NOTE, problem

from tests.conftest import run_cli

from .conftest import new_project

HANG_GUARD_S = 120


@pytest.mark.parametrize(
    ("note", "action", "expected"),
    [
        ("", "reject", "a reject needs a reason"),
        ("   ", "retire", "a retire needs a reason"),
        ("", "comment", "a comment needs a reason"),
        ("x" * 100_000, "comment", "100,000 characters long: at most 2,000"),
        ("a\x00b", "approve", "control characters"),
        (7, "approve", "must be text"),
    ],
)
def test_a_bad_note_is_named(note, action, expected):
    assert expected in (problem(note, action) or "")


def test_a_good_note_passes():
    assert problem("", "approve") is None and problem("fine\nsecond line", "reject") is None
    assert problem("x" * MAX_NOTE, "comment") is None


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["reject", "m", "1", "--note", ""], "a reject needs a reason"),
        (["comment", "m", "1", "--note", "x" * 100_000], "at most 2,000"),
    ],
    ids=["empty reject", "huge comment"],
)
def test_the_cli_refuses_a_bad_note_before_it_calls(tmp_path, argv, expected):
    # no platform at all: the note is judged first
    proc = run_cli("model", *argv, "--data-dir", str(tmp_path), timeout=HANG_GUARD_S)
    assert proc.returncode == 2 and expected in proc.stderr and "fix:" in proc.stderr, proc.stderr


@pytest.mark.services
@pytest.mark.slow
def test_the_registry_refuses_bad_notes_and_a_champion_rejection_says_what_happens(light_platform, tmp_path):
    p = new_project(light_platform)
    assert p.submit(p.job(tmp_path, depth=6))["outcome"] == "registered"
    p.act("manager@example.com", 1, "promote")
    validator = light_platform.credentials("validator@example.com")
    url = f"{light_platform.endpoints.registry}/models/{p.name}/versions/1"
    for action, note, expected in [
        ("reject", "", "a reject needs a reason"),
        ("comment", "x" * 100_000, "100,000 characters long: at most 2,000"),
    ]:
        resp = requests.post(f"{url}/{action}", json={"note": note}, auth=validator.auth, timeout=60)
        assert resp.status_code == 400 and expected in resp.json()["error"], resp.text

    env = {**light_platform.env, **validator.env()}
    args = [
        "model",
        "reject",
        p.name,
        "1",
        "--note",
        "fails on the new data",
        "--data-dir",
        str(light_platform.data_dir),
    ]
    proc = run_cli(*args, env=env, timeout=HANG_GUARD_S)
    assert proc.returncode == 0, proc.stderr
    assert (
        f"{p.name} v1 is still champion" in proc.stdout and "until another version is promoted" in proc.stdout
    )
