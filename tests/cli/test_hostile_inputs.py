"""Hostile input, table-driven: spec files, CLI arguments and stack outputs a careless or adversarial
user could give. Each case must end with exit 2, one ``error:`` line naming the cause and a ``fix:``
line, no traceback, within a hang guard, and nothing written to disk.

The cases run in-process through the CLI's real entry point (``shipyard.cli.main.main``), which is
what the ``shipyard`` script calls; a representative subset also runs as a real subprocess.
(Template answers, ``shipyard new`` and ``project create`` are covered with the template's tests.)
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from shipyard.cli.main import main

REPO = Path(__file__).resolve().parents[2]
HANG_GUARD_S = 30  # generous for a loaded 2-core machine: a case that takes this long is a hang
VALID = yaml.safe_load((REPO / "platform.yaml").read_text())


def spec_with(**changes: object) -> str:
    """The repo's valid spec with dotted-path ``changes`` (``local__host="x"`` sets local.host)."""
    import copy

    data = copy.deepcopy(VALID)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return yaml.safe_dump(data, sort_keys=False)


def _bomb(levels: int, width: int) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def _team_with(**changes: object) -> str:
    import copy

    data = copy.deepcopy(VALID)
    data["teams"][0].update(changes)
    return yaml.safe_dump(data, sort_keys=False)


OUTPUTS_OK = (
    '{"endpoints": {"platform": "aws", "mlflow": "https://mlflow.example.com"}, '
    '"dvcRemotes": {"demo": "s3://b/demo"}}'
)


@dataclass
class Case:
    id: str
    argv: list[str]
    expect: str  # a piece of the error line
    files: dict[str, str | bytes] = field(default_factory=dict)  # relative to the case dir
    setup: Callable[[Path], None] | None = None
    env: dict[str, str] = field(default_factory=dict)


def _spec(case_id: str, text: str | bytes, expect: str) -> Case:
    return Case(case_id, ["spec", "validate", "bad.yaml"], expect, {"bad.yaml": text})


def _outputs(case_id: str, text: str | bytes, expect: str, *extra: str) -> Case:
    return Case(case_id, ["infra", "outputs", "out.json", *extra], expect, {"out.json": text})


def _mkfifo(d: Path) -> None:
    os.mkfifo(d / "bad.yaml")


def _symlink_log(d: Path) -> None:
    logs = d / "home" / "ci" / "logs"
    logs.mkdir(parents=True)
    (d / "secret.log").write_text("secret\n")
    (logs / "abc123.log").symlink_to(d / "secret.log")


def _vset(case_id: str, data: str | bytes, expect: str) -> Case:
    return Case(case_id, ["model", "validation-set", "m", "v.csv"], expect, {"v.csv": data})


CASES = [
    # --- a validator's validation set: read before any service is asked -------------------------
    Case("vset-missing", ["model", "validation-set", "m", "nope.csv"], "nope.csv: no such CSV file"),
    Case(
        "vset-fifo",
        ["model", "validation-set", "m", "v.csv"],
        "not a regular file",
        setup=lambda d: os.mkfifo(d / "v.csv"),
    ),  # fmt: skip
    _vset("vset-latin1", "f0,target\ncaf\xe9,1\n".encode("latin-1"), "is not UTF-8 text"),
    _vset("vset-binary", b"\x7fELF\x00\x01", "is a binary file"),
    # --- spec files: the file itself -----------------------------------------------------------
    Case("spec-missing", ["spec", "validate", "nope.yaml"], "nope.yaml: no such spec file"),
    Case(
        "spec-directory",
        ["spec", "validate", "adir"],
        "adir: is a directory",
        setup=lambda d: (d / "adir").mkdir(),
    ),
    Case("spec-fifo", ["spec", "validate", "bad.yaml"], "not a regular file", setup=_mkfifo),
    Case("spec-dev-zero", ["spec", "validate", "/dev/zero"], "/dev/zero: is not a regular file"),
    _spec("spec-empty", "", "the file is empty"),
    _spec("spec-latin1", "platform: {name: caf\xe9}\n".encode("latin-1"), "is not UTF-8 text"),
    _spec("spec-utf16", "platform: {}\n".encode("utf-16"), "is UTF-16 text"),
    _spec("spec-binary", b"\x7fELF\x00\x01\x02", "is a binary file"),
    _spec("spec-too-large", "# " + "x" * (2 * 1024 * 1024) + "\n", "is too large"),
    # --- spec files: YAML the safe loader refuses ----------------------------------------------
    _spec("yaml-alias-bomb", _bomb(9, 9), "more than 50 YAML aliases"),
    _spec("yaml-alias-expansion", _bomb(6, 8), "expands to more than"),
    _spec("yaml-recursive-alias", "a: &a [*a]\n", "nested more than"),
    _spec("yaml-deep-lists", "a: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 32 levels"),
    _spec("yaml-deep-maps", "a: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n", "nested more than 32 levels"),
    _spec("yaml-deep-block", "".join("  " * i + f"k{i}:\n" for i in range(60)) + "  " * 60 + "v\n", "nested"),
    _spec("yaml-merge-key", "x: &x {name: p}\nplatform:\n  <<: *x\n", "merge key (<<)"),
    _spec("yaml-list-key", "? [a, b]\n: 1\n", "keys must be text"),
    _spec("yaml-map-key", "? {a: 1}\n: 1\n", "keys must be text"),
    _spec("yaml-int-key", "1: a\n", "the key '1' is not text"),
    _spec("yaml-bool-key", "yes: a\n", "the key 'yes' is not text"),
    _spec("yaml-null-key", "~: a\n", "is not text"),
    _spec("yaml-tag-int", "platform: !!int abc\n", "YAML tag 'tag:yaml.org,2002:int'"),
    _spec("yaml-tag-timestamp", "platform: !!timestamp x\n", "YAML tag"),
    _spec("yaml-tag-python", "platform: !!python/object/apply:os.system ['echo hi']\n", "YAML tag"),
    _spec("yaml-tag-custom", "platform: !shipyard {name: p}\n", "YAML tag '!shipyard'"),
    _spec("yaml-tag-binary", "platform: !!binary aGVsbG8=\n", "YAML tag"),
    _spec("yaml-syntax", "platform: [unclosed\n", "invalid YAML"),
    _spec("yaml-tab-indent", "platform:\n\tname: p\n", "invalid YAML"),
    _spec("yaml-top-list", "- a\n- b\n", "the spec must be a mapping"),
    _spec("yaml-top-scalar", "just text\n", "the spec must be a mapping"),
    _spec("yaml-duplicate-key", "platform: {name: a}\nplatform: {name: b}\n", "key given twice"),
    _spec("yaml-bad-date", spec_with() + "pricing:\n  as_of: 2025-13-45\n", "'2025-13-45' cannot be read"),
    _spec("yaml-multi-document", "a: 1\n---\nb: 2\n", "invalid YAML"),
    # --- spec files: semantic checks --------------------------------------------------------------
    _spec("host-shell", spec_with(local__host="; rm -rf /"), "neither an IP address nor a hostname"),
    _spec("host-space", spec_with(local__host="local host"), "neither an IP address nor a hostname"),
    _spec("host-empty", spec_with(local__host=""), "neither an IP address nor a hostname"),
    _spec("host-url", spec_with(local__host="http://127.0.0.1"), "neither an IP address"),
    _spec(
        "gate-min-over-max",
        spec_with(governance__gates=[{"metric": "accuracy", "min": 2, "max": -1}]),
        "is greater than max",
    ),  # fmt: skip
    _spec(
        "gate-out-of-range",
        spec_with(governance__gates=[{"metric": "accuracy", "min": 1.5}]),
        "outside the range of accuracy",
    ),  # fmt: skip
    _spec(
        "gate-negative-rmse",
        spec_with(governance__gates=[{"metric": "rmse", "max": -1}]),
        "outside the range of rmse",
    ),  # fmt: skip
    _spec("gate-no-bound", spec_with(governance__gates=[{"metric": "f1"}]), "sets neither min nor max"),
    _spec(
        "gate-metric-shell",
        spec_with(governance__gates=[{"metric": "acc; rm -rf /", "min": 0.5}]),
        "does not match",
    ),  # fmt: skip
    _spec("gate-nan", spec_with().replace("min: 0.8", "min: .nan"), "governance.gates[0].min"),
    _spec("data-dir-dotdot", spec_with(local__data_dir="/tmp/../etc"), "contains '..'"),
    _spec("data-dir-root", spec_with(local__data_dir="/"), "whole file system"),
    _spec("data-dir-newline", spec_with(local__data_dir="/tmp/x\ny"), "control characters"),
    _spec(
        "team-slash",
        spec_with(teams=[{"name": "../x", "owners": ["a@b.co"], "monthly_budget": 1}]),
        "teams[0].name",
    ),  # fmt: skip
    _spec(
        "team-300-chars",
        spec_with(teams=[{"name": "a" * 300, "owners": ["a@b.co"], "monthly_budget": 1}]),
        "teams[0].name",
    ),  # fmt: skip
    _spec(
        "team-shell",
        spec_with(teams=[{"name": "$(id)", "owners": ["a@b.co"], "monthly_budget": 1}]),
        "does not match ^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$",
    ),  # fmt: skip (Rich must not eat [a-z0-9])
    _spec("platform-name-upper", spec_with(platform={"name": "Prod_1"}), "platform.name"),
    _spec(
        "url-javascript",
        spec_with(services={"mlflow": {"url": "javascript:alert(1)"}}),
        "services.mlflow.url",
    ),
    _spec("url-quote", spec_with(services={"mlflow": {"url": "http://a'b"}}), "services.mlflow.url"),
    _spec("port-zero", spec_with(local__ports={"mlflow": 0}), "local.ports.mlflow"),
    _spec("port-huge", spec_with(local__ports={"mlflow": 99999999999999999999}), "local.ports.mlflow"),
    _spec("ports-duplicate", spec_with(local__ports={"mlflow": 7000, "portal": 7000}), "give each its own"),
    _spec(
        "budget-inf",
        spec_with(teams=[{"name": "a", "owners": ["a@b.co"], "monthly_budget": float("inf")}]),
        "monthly_budget",
    ),  # fmt: skip
    _spec(
        "owner-not-email",
        spec_with(teams=[{"name": "a", "owners": ["nobody"], "monthly_budget": 1}]),
        "is not an email address",
    ),  # fmt: skip
    Case(
        "spec-via-cost-estimate", ["cost", "estimate", "bad.yaml"], "YAML tag", {"bad.yaml": "a: !!str x\n"}
    ),
    Case(
        "spec-via-status",
        ["status", "--spec", "bad.yaml"],
        "merge key",
        {"bad.yaml": "a: &a {b: 1}\nc:\n  <<: *a\n"},
    ),
    # --- CLI arguments ---------------------------------------------------------------------------
    Case("tracking-uri-text", ["ci", "list", "--tracking-uri", "not a url"], "is not an http(s) URL"),
    Case("tracking-uri-file", ["ci", "list", "--tracking-uri", "file:///etc"], "is not an http(s) URL"),
    Case(
        "tracking-uri-env", ["ci", "list"], "is not an http(s) URL", env={"MLFLOW_TRACKING_URI": "/tmp/x y"}
    ),
    Case(
        "tracking-uri-down",
        ["ci", "list", "--tracking-uri", "http://127.0.0.1:9"],
        "MLflow is unreachable at",
    ),
    Case("ci-no-platform", ["ci", "list"], "MLflow at (not configured) is unavailable"),
    Case("ci-logs-traversal", ["ci", "logs", "../../../etc/passwd"], "is not a CI run id"),
    Case("ci-logs-glob", ["ci", "logs", "*"], "is not a CI run id"),
    Case("ci-logs-empty", ["ci", "logs", ""], "is not a CI run id"),
    Case("ci-logs-symlink-out", ["ci", "logs", "abc123"], "no log of CI run", setup=_symlink_log),
    Case("ci-logs-no-dir", ["ci", "logs", "abc123"], "no CI logs in"),
    Case(
        "cost-month-9999",
        ["cost", "report", "--month", "9999-12", "--spec", "ok.yaml"],
        "outside 2000-01",
        {"ok.yaml": spec_with()},
    ),  # fmt: skip
    Case(
        "cost-month-13",
        ["cost", "report", "--month", "2026-13", "--spec", "ok.yaml"],
        "not in the form YYYY-MM",
        {"ok.yaml": spec_with()},
    ),  # fmt: skip
    Case(
        "cost-month-one-digit",  # issue 35: was taken as 2026-01
        ["cost", "report", "--month", "2026-1", "--spec", "ok.yaml"],
        "month '2026-1' is not in the form YYYY-MM",
        {"ok.yaml": spec_with()},
    ),  # fmt: skip
    Case(
        "cost-month-text",
        ["cost", "report", "--month", "[bold]x", "--spec", "ok.yaml"],
        "'[bold]x'",
        {"ok.yaml": spec_with()},
    ),  # fmt: skip
    Case(
        "model-mlflow-text",
        ["model", "list", "--spec", "ok.yaml", "--mlflow", "not a url"],
        "--mlflow 'not a url' is not an http(s) URL",
        {"ok.yaml": spec_with()},
    ),  # fmt: skip
    Case(
        "model-mlflow-down",
        [
            "model",
            "promote",
            "m",
            "1",
            "--reason",
            "x",
            "--spec",
            "ok.yaml",
            "--mlflow",
            "http://127.0.0.1:9",
        ],
        "MLflow is unreachable at http://127.0.0.1:9",
        {"ok.yaml": spec_with()},
    ),  # fmt: skip
    Case(
        "service-timeout-text",
        ["ci", "list", "--tracking-uri", "http://127.0.0.1:9"],
        "SHIPYARD_SERVICE_TIMEOUT",
        env={"SHIPYARD_SERVICE_TIMEOUT": "soon"},
    ),  # fmt: skip
    # --- stack outputs ---------------------------------------------------------------------------
    Case("outputs-missing", ["infra", "outputs", "nope.json"], "nope.json: no such file"),
    Case(
        "outputs-directory",
        ["infra", "outputs", "adir"],
        "is a directory",
        setup=lambda d: (d / "adir").mkdir(),
    ),
    _outputs(
        "outputs-latin1", '{"endpoints": {"platform": "caf\xe9"}}'.encode("latin-1"), "is not UTF-8 text"
    ),
    _outputs("outputs-deep", "[" * 100_000 + "]" * 100_000, "nested more than 32 levels"),
    _outputs("outputs-not-json", "endpoints: yes", "is not JSON"),
    _outputs("outputs-list", "[1, 2]", "no 'endpoints' object"),
    _outputs("outputs-no-endpoints", '{"dvcRemotes": {}}', "no 'endpoints' object"),
    _outputs(
        "outputs-endpoint-number",
        '{"endpoints": {"platform": "aws", "mlflow": 5}}',
        "endpoints.mlflow is a int",
    ),
    _outputs(
        "outputs-remotes-list",
        '{"endpoints": {"platform": "aws"}, "dvcRemotes": ["s3://x"]}',
        "dvcRemotes must map each team",
    ),  # fmt: skip
    _outputs(
        "outputs-remotes-number",
        '{"endpoints": {"platform": "aws"}, "dvcRemotes": {"demo": 5}}',
        "dvcRemotes must map each team",
    ),  # fmt: skip
    _outputs(
        "outputs-unknown-field", '{"endpoints": {"platform": "aws", "evil": "x"}}', "unknown endpoint field"
    ),
    _outputs("outputs-huge-int", '{"endpoints": {"platform": ' + "9" * 10_000 + "}}", "not usable JSON"),
    _outputs(
        "outputs-newline-env",
        '{"endpoints": {"platform": "aws", "mlflow": "http://m\\nEVIL=1"}}',
        "contains a control character",
        "--env",
    ),  # fmt: skip
    _outputs("outputs-project-no-team", OUTPUTS_OK, "--project needs --team", "--project", "p"),
    _outputs("outputs-unknown-team", OUTPUTS_OK, "team 'ops' has no DVC remote", "--team", "ops"),
    # issue 35, item 7: accepted before
    _outputs(
        "outputs-duplicate-key",
        '{"endpoints": {"platform": "aws", "mlflow": "https://a.example.com", "mlflow": "https://b.example.com"}}',
        "has the key 'mlflow' more than once",
    ),  # fmt: skip
    _outputs(
        "outputs-javascript-url",
        '{"endpoints": {"platform": "aws", "portal": "javascript:alert(1)"}}',
        "endpoints.portal 'javascript:alert(1)' is not an http(s) URL",
    ),  # fmt: skip
    _outputs(
        "outputs-platform-mars", '{"endpoints": {"platform": "mars"}}', "endpoints.platform 'mars' is not one"
    ),
    _outputs(
        "outputs-team-path", OUTPUTS_OK, "--team '../x' is not a team or project name", "--team", "../x"
    ),
    _outputs(
        "outputs-project-path", OUTPUTS_OK, "--project '../p' is not", "--team", "demo", "--project", "../p"
    ),
    _spec(
        "spec-port-bool", spec_with(local__ports={"mlflow": True}), "local.ports.mlflow: expected a number"
    ),
    _spec("spec-budget-bool", _team_with(monthly_budget=True), "teams[0].monthly_budget: expected a number"),
    _spec("spec-owner-markup", _team_with(owners=["<script>x</script>@x.com"]), "is not an email address"),
]


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        out[str(path.relative_to(root))] = (stat.S_IFMT(st.st_mode), st.st_size if path.is_file() else 0)
    return out


class _Hang(Exception):
    pass


def _alarm(*_args):
    raise _Hang


def _prepare(case: Case, d: Path) -> None:
    for name, content in case.files.items():
        path = d / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    if case.setup:
        case.setup(d)


def _check(case: Case, code: int, stderr: str, elapsed: float) -> None:
    assert "Traceback" not in stderr, stderr
    assert code == 2, f"exit {code}\n{stderr}"
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    assert case.expect in errors[0], f"{case.expect!r} not in {errors[0]!r}"
    lines = stderr.splitlines()
    fix = lines[lines.index(errors[0]) + 1]
    assert fix.startswith("  fix: ") and len(fix) > len("  fix: "), stderr
    assert elapsed < HANG_GUARD_S


def test_the_table_has_at_least_60_cases():
    assert len(CASES) >= 60 and len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_is_one_line_error(case, tmp_path, monkeypatch, capsys):
    d = tmp_path / "case"
    d.mkdir()
    _prepare(case, d)
    home = d / "home"
    monkeypatch.chdir(d)
    monkeypatch.setenv("SHIPYARD_HOME", str(home))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("SHIPYARD_SPEC", raising=False)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    before = _tree(tmp_path)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG_GUARD_S)
    start = time.monotonic()
    try:
        code = main(case.argv)
    except _Hang:
        pytest.fail(f"{case.id}: no answer within {HANG_GUARD_S}s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    elapsed = time.monotonic() - start
    _check(case, code, capsys.readouterr().err, elapsed)
    assert _tree(tmp_path) == before, "the command changed the disk"


SUBPROCESS = ["spec-missing", "yaml-alias-bomb", "yaml-deep-lists", "host-shell", "tracking-uri-text",
              "ci-logs-traversal", "outputs-deep", "outputs-newline-env", "cost-month-9999"]  # fmt: skip


@pytest.mark.parametrize("case_id", SUBPROCESS)
def test_hostile_input_through_the_real_script(case_id, tmp_path):
    case = next(c for c in CASES if c.id == case_id)
    d = tmp_path / "case"
    d.mkdir()
    _prepare(case, d)
    before = _tree(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "SHIPYARD_SPEC")}
    env.update({"SHIPYARD_HOME": str(d / "home"), **case.env})
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "shipyard.cli.main", *case.argv],
        cwd=d, env=env, capture_output=True, text=True, timeout=HANG_GUARD_S * 2,
    )  # fmt: skip
    _check(case, proc.returncode, proc.stderr, (time.monotonic() - start) / 2)
    assert _tree(tmp_path) == before, "the command changed the disk"


def test_a_bug_shows_one_line_and_a_log_file_not_a_stack(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SHIPYARD_HOME", str(tmp_path))
    (tmp_path / "logs").mkdir()
    import shipyard.cli.spec_cmd as spec_cmd

    def broken(*_a, **_k):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(spec_cmd, "load_spec", broken)
    code = main(["spec", "validate", str(REPO / "platform.yaml")])
    err = capsys.readouterr().err
    assert code == 70 and "Traceback" not in err
    assert err.startswith("internal error: ZeroDivisionError (details in ")
    log = next((tmp_path / "logs").glob("shipyard-crash-*.log"))
    assert "ZeroDivisionError: a bug" in log.read_text() and "Traceback" in log.read_text()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_infra_outputs_env_is_shell_safe(tmp_path, capsys):
    out = tmp_path / "out.json"
    # endpoint URLs must be http(s) URLs (issue 35): a remote root is free text and must come out quoted
    out.write_text(
        '{"endpoints": {"platform": "aws", "mlflow": "https://m.example.com"}, '
        '"dvcRemotes": {"demo": "s3://b/a b$(id)`x`"}}'
    )
    assert main(["infra", "outputs", str(out), "--env", "--team", "demo", "--project", "p"]) == 0
    lines = capsys.readouterr().out.splitlines()
    script = "\n".join(lines) + '\nprintf %s "$SHIPYARD_DVC_REMOTE"'
    shown = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout
    assert shown == "s3://b/a b$(id)`x`/demo/p"
