"""Issue #32, attack 3: a CI job is the project's code, so it must not hold the platform's keys. A
branch whose `make lint` lists `$SHIPYARD_HOME/identity/passwords` and reads the data dir by its
path: the job (as the unprivileged `shipyard-ci` user, without $SHIPYARD_HOME) sees none of it, and
the same job still passes. The real embedded runner of the light platform, a real git push."""

from __future__ import annotations

import os
import uuid

import pytest
from shipyard.ci.runs import wait_for_ci_run
from shipyard.identity import RUNNER
from shipyard.identity.secrets import identity_dir
from shipyard.identity.session import acting_as
from shipyard.projects import provision_project
from shipyard.records import MlflowApi

from tests.local.ci_project import commit_and_push, git, makefile, new_project

pytestmark = [pytest.mark.services, pytest.mark.slow]


def _snooping(project: str, data_dir) -> str:
    """The project's Makefile with a `lint` that looks for the platform's secrets."""
    passwords = identity_dir(data_dir) / "passwords"
    snoop = [
        '\t@echo "home=[$$SHIPYARD_HOME] user=$$(id -un)"',
        f"\t@ls $$SHIPYARD_HOME/identity/passwords 2>&1 | head -20; ls {passwords} 2>&1 | head -20; true",
        f"\t@cat {passwords}/* 2>&1 | head -5; ls {data_dir} 2>&1 | head -5; true",
        f"\t@cat {data_dir}/state.json 2>&1 | head -2; true",
    ]
    text = makefile(project)
    return text.replace(
        'lint:\n\t@echo "==> lint"\n', 'lint:\n\t@echo "==> lint"\n' + "\n".join(snoop) + "\n"
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="jobs run as another user only when the platform runs as root")
def test_a_job_cannot_read_the_platforms_data_dir_and_still_passes(light_platform, tmp_path):
    name = f"iso{uuid.uuid4().hex[:8]}"
    info = provision_project(
        light_platform.spec, light_platform.endpoints, light_platform.data_dir, name, "demo"
    )
    repo = new_project(tmp_path / "proj", name, info.repo_path)
    sha, out = commit_and_push(repo, _snooping(name, light_platform.data_dir), "snoop")
    assert "queued" in out, out
    with acting_as(light_platform.credentials(RUNNER)):
        run = wait_for_ci_run(MlflowApi(light_platform.endpoints.mlflow), name, commit=sha, timeout=300)
    log = (light_platform.data_dir / "ci" / "logs" / f"{run.run_id}.log").read_text()
    assert run.status == "passed", log[-3000:]
    assert "home=[] user=shipyard-ci" in log, log[-3000:]
    secrets = sorted(p.name for p in (identity_dir(light_platform.data_dir) / "passwords").iterdir())
    assert secrets and not [s for s in secrets if s in log], log[-3000:]  # no password file named
    for path in secrets:  # nor any password's text
        assert (identity_dir(light_platform.data_dir) / "passwords" / path).read_text().strip() not in log
    assert '"endpoints"' not in log and "Permission denied" in log, log[-3000:]  # state.json unread
    assert "/dvc-remote" in log and str(light_platform.data_dir) + "/dvc-remote" not in log  # its own remote
    assert "runs as Unix user shipyard-ci, without the platform's data dir" in log
    assert git("log", "-1", "--format=%H", cwd=repo).strip() == sha
