"""A command given a data dir (``--data-dir`` or ``$SHIPYARD_HOME``) and no spec (``--spec``,
``$SHIPYARD_SPEC``) uses the spec the platform in that data dir was started with, from any directory:
``cd /tmp && shipyard login --data-dir D --user X --show-password`` (docs/ci.md) works outside the
checkout. The data dir here is what ``shipyard up`` leaves (state.json naming its spec, the 0600
passwords); no service runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from shipyard.cli.main import main
from shipyard.errors import UserError
from shipyard.identity.secrets import ensure_password
from shipyard.local.process import free_ports
from shipyard.platform.layout import DataLayout
from shipyard.platform.resolver import resolve_platform
from shipyard.platform.state import State, save_state

from ..conftest import run_cli
from ..fixtures.embedded_platform import write_spec

USER = "data-scientist@example.com"


@pytest.fixture
def started(tmp_path, monkeypatch) -> tuple[Path, Path, str]:
    """A data dir a platform was started in (from ``checkout/platform.yaml``), and the CLI's working
    directory somewhere else, with no spec in it and no $SHIPYARD_SPEC/$SHIPYARD_HOME."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    spec = write_spec(checkout / "platform.yaml")
    data_dir = tmp_path / "data"
    layout = DataLayout(data_dir).ensure()
    (port,) = free_ports(1)  # nothing listens there: the platform is stopped
    recorded = {"platform": "local", "mlflow": f"http://127.0.0.1:{port}"}
    state = State(data_dir=str(data_dir), spec_path=str(spec.resolve()), endpoints=recorded)  # as `up` wrote
    save_state(layout.state_file, state)
    password = ensure_password(data_dir, USER)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for key in ("SHIPYARD_SPEC", "SHIPYARD_HOME", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(key, raising=False)
    return data_dir, spec.resolve(), password


def test_show_password_from_any_directory_with_the_data_dir_flag_or_env(started, monkeypatch, capsys):
    data_dir, _, password = started
    assert main(["login", "--data-dir", str(data_dir), "--user", USER, "--show-password"]) == 0
    assert capsys.readouterr().out == password + "\n"
    monkeypatch.setenv("SHIPYARD_HOME", str(data_dir))
    assert main(["login", "--user", USER, "--show-password"]) == 0
    assert capsys.readouterr().out == password + "\n"


def test_show_password_through_the_real_script(started):
    data_dir, _, password = started
    env = {"SHIPYARD_SPEC": "", "SHIPYARD_HOME": ""}
    result = run_cli("login", "--data-dir", str(data_dir), "--user", USER, "--show-password", env=env,
                     cwd=Path.cwd())  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == password + "\n"


def test_every_command_resolves_the_recorded_spec(started, monkeypatch):
    data_dir, spec, _ = started
    for home, env in ((data_dir, {}), (None, {"SHIPYARD_HOME": str(data_dir)})):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        platform = resolve_platform(None, home)  # every command: up, login, audit, demo, model, cost, ...
        assert platform.spec_path == spec and platform.data_dir == data_dir.resolve()


def test_an_explicit_spec_still_wins(started, tmp_path, monkeypatch):
    data_dir, spec, _ = started
    other = write_spec(tmp_path / "other.yaml")
    assert resolve_platform(other, data_dir).spec_path == other.resolve()
    monkeypatch.setenv("SHIPYARD_SPEC", str(other))
    assert resolve_platform(None, data_dir).spec_path == other.resolve()


@pytest.mark.parametrize(
    ("argv", "expect"),
    [
        (["whoami"], "is not running (MLflow is stopped)"),
        (["audit", "verify"], "no audit log in"),
        (["template", "status"], "is not running (MLflow is stopped)"),
    ],
)
def test_commands_outside_the_checkout_reach_the_platform(started, argv, expect, capsys):
    data_dir, _, _ = started
    assert main([*argv, "--data-dir", str(data_dir)]) == 2
    err = capsys.readouterr().err
    assert expect in err and "no such spec file" not in err, err


def test_a_data_dir_without_a_platform_is_named(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHIPYARD_SPEC", raising=False)
    empty = tmp_path / "nothing-here"
    for argv, env in (
        (["--data-dir", str(empty)], {}),
        ([], {"SHIPYARD_HOME": str(empty)}),
    ):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        assert main(["login", *argv, "--user", USER, "--show-password"]) == 2
        out, err = capsys.readouterr()
        lines = err.splitlines()
        assert out == "" and len(lines) == 2, err
        assert lines[0].startswith("error: ") and str(empty) in lines[0], err
        assert lines[1].startswith("  fix: ") and "--spec" in lines[1], err
    assert not empty.exists()  # nothing written


def test_a_moved_spec_is_named(started, monkeypatch):
    data_dir, spec, _ = started
    spec.rename(spec.with_name("moved.yaml"))
    with pytest.raises(UserError) as err:
        resolve_platform(None, data_dir)
    assert str(spec) in err.value.message and str(data_dir.resolve()) in err.value.message
    assert "--spec" in err.value.fix


def test_the_recorded_spec_wins_over_one_in_the_working_directory(started, tmp_path):
    data_dir, spec, _ = started
    write_spec(Path.cwd() / "platform.yaml")  # another platform's spec where the command runs
    assert resolve_platform(None, data_dir).spec_path == spec
    assert resolve_platform(None, None).spec_path == (Path.cwd() / "platform.yaml").resolve()  # no data dir
