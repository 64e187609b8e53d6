"""People and roles from the spec, checked by `shipyard spec validate` (no services needed)."""

from __future__ import annotations

import yaml
from shipyard.identity.people import people, team_people
from shipyard.identity.portal import view_roles
from shipyard.identity.secrets import ensure_password, password_file
from shipyard.spec import load_spec

from tests.fixtures.embedded_platform import REPO


def _spec(tmp_path, change):
    data = yaml.safe_load((REPO / "platform.yaml").read_text())
    change(data)
    path = tmp_path / "platform.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_roles_come_from_teams_and_governance_people():
    spec = load_spec(REPO / "platform.yaml")
    everyone = people(spec)
    assert everyone["validator@example.com"].roles == {"approver"}
    assert everyone["data-scientist@example.com"].teams == {"demo"}
    assert team_people(spec, "demo") == {"data-scientist@example.com", "analyst@example.com"}
    assert view_roles(spec, "Auditor@Example.com") == ["auditor"]
    assert view_roles(spec, "analyst@example.com") == ["project owner"]
    assert view_roles(spec, "stranger@example.com") == []


def test_spec_validate_needs_enough_approvers_outside_each_team(cli, tmp_path):
    def insider(data):
        data["governance"]["people"]["approvers"] = ["validator@example.com", "data-scientist@example.com"]

    result = cli("spec", "validate", str(_spec(tmp_path, insider)))
    assert result.returncode == 2
    assert "governance.people.approvers" in result.stderr and "team 'demo' has 1 approver(s)" in result.stderr
    assert "fix:" in result.stderr


def test_spec_validate_checks_emails(cli, tmp_path):
    def bad(data):
        data["governance"]["people"]["auditors"] = ["not-an-email"]
        data["teams"][0]["members"] = ["x@example.com"]

    result = cli("spec", "validate", str(_spec(tmp_path, bad)))
    assert result.returncode == 2 and "'not-an-email' is not an email address" in result.stderr
    assert cli("spec", "validate", str(REPO / "platform.yaml")).returncode == 0


def test_passwords_are_0600_and_kept(tmp_path):
    first = ensure_password(tmp_path, "validator@example.com")
    assert ensure_password(tmp_path, "validator@example.com") == first and len(first) >= 24
    path = password_file(tmp_path, "validator@example.com")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
