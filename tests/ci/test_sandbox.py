"""The CI job's own folder and DVC remote (issue #32, attack 3): what a job pushed reaches the team's
remote only when its bytes hash to its name; the folders on the way to the platform's Python that a job
user may not enter are found so the runner can bind only the Python itself."""

from __future__ import annotations

import hashlib
import json
import os

from shipyard.ci import sandbox


def _put(remote, data: bytes, suffix: str = "", name: str | None = None):
    md5 = name or hashlib.md5(data).hexdigest()
    path = remote / "files" / "md5" / md5[:2] / (md5[2:] + suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return md5


def test_only_objects_whose_bytes_match_their_name_reach_the_teams_remote(tmp_path):
    staging, team = tmp_path / "job" / "dvc-remote", tmp_path / "team"
    good = _put(staging, b"a,b\n1,2\n")
    listing = _put(staging, json.dumps([{"relpath": "x", "md5": good}]).encode(), ".dir")
    forged = _put(staging, b"not what the name says", name="0123456789abcdef0123456789abcdef")
    copied, refused = sandbox.merge(staging, team)
    assert (copied, refused) == (2, [forged])
    assert (team / "files" / "md5" / good[:2] / good[2:]).read_bytes() == b"a,b\n1,2\n"
    assert (team / "files" / "md5" / listing[:2] / (listing[2:] + ".dir")).is_file()
    assert not (team / "files" / "md5" / "01").exists()
    assert sandbox.merge(staging, team) == (0, [forged])  # already there: nothing copied twice
    assert sandbox.merge(tmp_path / "nothing", team) == (0, [])


def test_the_folders_a_job_user_cannot_enter_on_the_way_to_the_platforms_python():
    import shutil
    import tempfile
    from pathlib import Path

    top = Path(tempfile.mkdtemp())  # in /tmp, not under pytest's own 0700 folder
    try:
        _check_closed(top)
    finally:
        shutil.rmtree(top)


def _check_closed(tmp_path):
    closed = tmp_path / "home"
    python = closed / ".pyenv" / "versions" / "3.11" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text("")
    os.chmod(tmp_path, 0o755)
    os.chmod(closed, 0o700)
    assert sandbox._closed_ancestors([python, python.parent]) == [(str(closed), str(closed / ".pyenv"))]
    os.chmod(closed, 0o711)
    assert sandbox._closed_ancestors([python]) == []


def test_a_job_folder_is_outside_the_data_dir_and_its_own(tmp_path):
    work = sandbox.job_dir(tmp_path / "data", "abc123")
    assert not work.is_relative_to(tmp_path / "data")
    assert {p.name for p in work.iterdir()} == {"home", "dvc-remote", "dvc-site-cache"}
    assert oct(work.parent.stat().st_mode & 0o777) == "0o711"  # others may enter, never list
    env = sandbox.env(work)
    assert env["HOME"] == str(work / "home") and "SHIPYARD_HOME" not in env
    import shutil

    shutil.rmtree(work)


def test_jobs_run_as_an_unprivileged_user_only_when_the_platform_can_switch(monkeypatch):
    if os.geteuid() == 0:
        user = sandbox.job_user()  # created on first use
        assert user.isolated and user.name == sandbox.CI_USER and user.uid != 0
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    unprivileged = sandbox.job_user()
    assert not unprivileged.isolated  # it cannot switch: the runner warns in every job's log
    assert sandbox.command(unprivileged, ["make", "ci"], []) == (["make", "ci"], {})
    assert "CAN read the platform's data dir" in sandbox.UNISOLATED_WARNING
