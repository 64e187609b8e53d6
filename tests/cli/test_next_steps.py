"""One "Next:" block after `shipyard new`: no `git init` where a repository already is."""

from __future__ import annotations

import subprocess

from shipyard.cli.next_steps import after_new


def test_a_fresh_directory_gets_git_init_and_make_ci(tmp_path):
    project = tmp_path / "houses"
    project.mkdir()
    text = after_new(project, None)
    assert text.startswith("Next:\n  cd houses\n  make add-data DATA=")
    assert "git init -b main" in text and "make ci" in text and "git push" not in text


def test_a_provisioned_project_in_an_existing_repo_is_pushed_not_initialised(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    project = tmp_path / "houses"
    project.mkdir()
    text = after_new(project, "file:///platform/git/houses.git")
    assert "git init" not in text and "git push -u origin main" in text
    assert text.count("Next:") == 1
