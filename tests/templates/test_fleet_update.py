"""Fleet updates without a running platform: the template published as a versioned git repository,
a project generated from release N, then `update_project` to N+1 (clean: a pushed branch) and to a
release that conflicts with the data scientist's change (refused naming the file, nothing pushed)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml
from shipyard.templates.fleet import BRANCH_PREFIX, conflicted_files, update_project
from shipyard.templates.repo import behind, latest, releases

from tests.template.conftest import REPO, TEMPLATE, git_init

GIT = ["git", "-c", "user.name=Data Scientist", "-c", "user.email=ds@example.com"]


def set_version(template, version):
    path = template / "cookiecutter.json"
    data = json.loads(path.read_text())
    data["_template_version"] = version
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def edit(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def gate_in_params(inner):
    """The layout of releases before the platform's values moved to shipyard.yaml (governance:):
    gate: and monitor.max_drift_share in params.yaml, as a project of such a release has them."""
    catalog, params = inner / "shipyard.yaml", inner / "params.yaml"
    head, marker, owned = catalog.read_text().partition("\n# Owned by the platform")
    assert marker, "shipyard.yaml has no governance section"
    catalog.write_text(head + "\n")
    gate = owned[owned.index("  gate:\n") : owned.index("  monitor:\n")]
    gate = "".join(line[2:] if line.startswith("  ") else line for line in gate.splitlines(True))
    drift = owned[owned.index("    max_drift_share:") :].splitlines()[0][2:]
    edit(params, "\npredict:\n", f"\n{gate}\npredict:\n")
    edit(params, "  p_value: 0.01\n", f"  p_value: 0.01\n{drift}\n")


def make_fleet(tmp_path, cli, layout=None):
    template = tmp_path / "template"
    shutil.copytree(TEMPLATE, template, ignore=shutil.ignore_patterns("__pycache__"))
    set_version(template, "1.0.0")
    if layout is not None:
        layout(template / "{{cookiecutter.project_slug}}")
    url = str(tmp_path / "template.git")
    spec = yaml.safe_load((REPO / "platform.yaml").read_text())
    spec.setdefault("services", {})["template"] = {"url": url}
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    common = ("--spec", str(tmp_path / "spec.yaml"), "--data-dir", str(tmp_path / "home"))
    published = cli("template", "publish", "--template", str(template), *common)
    assert published.returncode == 0, published.stderr
    new = cli(
        "new", "Fleet Demo", "--team", "demo", "--no-input", "--no-provision", "-o", str(tmp_path), *common
    )
    assert new.returncode == 0, new.stderr
    project = tmp_path / "fleet-demo"
    git_init(project)
    remote = tmp_path / "fleet-demo.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    subprocess.run(["git", "push", "-q", str(remote), "main"], cwd=project, check=True)
    spec_path = tmp_path / "spec.yaml"
    return {
        "template": template, "url": url, "project": project, "remote": remote, "common": common,
        "spec": spec_path,
    }  # fmt: skip


@pytest.fixture
def fleet(tmp_path, cli):
    """A template copy published as 1.0.0 to a spec-named repository, and a project generated from it
    with `shipyard new`, pushed to its own bare remote."""
    return make_fleet(tmp_path, cli)


def release_next(fleet, cli, version, change):
    set_version(fleet["template"], version)
    change(fleet["template"] / "{{cookiecutter.project_slug}}")
    published = cli("template", "publish", "--template", str(fleet["template"]), *fleet["common"])
    assert published.returncode == 0, published.stderr
    return latest(fleet["url"])


def branch_file(remote, branch, path):
    out = subprocess.run(["git", "--git-dir", str(remote), "show", f"{branch}:{path}"], capture_output=True)
    return out.stdout.decode() if out.returncode == 0 else None


def test_generated_project_records_the_release(fleet):
    project = fleet["project"]
    cruft = json.loads((project / ".cruft.json").read_text())
    (release,) = releases(fleet["url"])
    assert cruft["template"] == fleet["url"] and cruft["commit"] == release.commit
    assert cruft["context"]["cookiecutter"]["_template_version"] == "1.0.0"
    catalog = yaml.safe_load((project / "shipyard.yaml").read_text())
    assert catalog["template"] == {"url": fleet["url"], "version": "1.0.0"}


def test_publish_refuses_changed_content_under_a_published_version(fleet, cli):
    edit(fleet["template"] / "{{cookiecutter.project_slug}}" / "Makefile", "clean:", "# changed\nclean:")
    again = cli("template", "publish", "--template", str(fleet["template"]), *fleet["common"])
    assert again.returncode == 2
    assert "template version 1.0.0 is already published with other content" in again.stderr
    assert "fix: bump _template_version" in again.stderr


def test_clean_update_is_pushed_on_a_branch_and_keeps_platform_values(fleet, cli):
    release = release_next(
        fleet, cli, "1.1.0", lambda p: edit(p / "Makefile", "clean:", "# from template 1.1.0\nclean:")
    )
    assert behind("1.0.0", releases(fleet["url"])) == 1
    result = update_project("fleet-demo", str(fleet["remote"]), fleet["url"], release)
    assert result.status == "updated", result.message
    branch = BRANCH_PREFIX + "1.1.0"
    assert "# from template 1.1.0" in branch_file(fleet["remote"], branch, "Makefile")
    catalog = yaml.safe_load(branch_file(fleet["remote"], branch, "shipyard.yaml"))
    assert catalog["template"]["version"] == "1.1.0"
    assert catalog["platform"]["mlflow"] == "http://127.0.0.1:5000"  # not the template's empty default
    cruft = json.loads(branch_file(fleet["remote"], branch, ".cruft.json"))
    assert cruft["commit"] == release.commit
    assert cruft["context"]["cookiecutter"]["_mlflow_tracking_uri"] == "http://127.0.0.1:5000"
    assert "<<<<<<<" not in branch_file(fleet["remote"], branch, "Makefile")
    assert branch_file(fleet["remote"], "main", "Makefile") == (fleet["project"] / "Makefile").read_text()
    again = update_project("fleet-demo", str(fleet["remote"]), fleet["url"], release)
    assert again.status == "updated"  # main is still on 1.0.0: the branch is made and pushed again


def test_conflicting_update_is_refused_naming_the_file(fleet, cli):
    project = fleet["project"]
    edit(project / "params.yaml", "n_estimators: 100", "n_estimators: 300")
    subprocess.run([*GIT, "commit", "-qam", "More trees"], cwd=project, check=True)
    subprocess.run(["git", "push", "-q", str(fleet["remote"]), "main"], cwd=project, check=True)
    release = release_next(
        fleet, cli, "1.2.0", lambda p: edit(p / "params.yaml", "n_estimators: 100", "n_estimators: 150")
    )
    result = update_project("fleet-demo", str(fleet["remote"]), fleet["url"], release)
    assert result.status == "conflict"
    assert result.files == ["params.yaml"]
    assert branch_file(fleet["remote"], BRANCH_PREFIX + "1.2.0", "params.yaml") is None  # nothing pushed


def commit_and_push(fleet, message):
    project = fleet["project"]
    subprocess.run([*GIT, "commit", "-qam", message], cwd=project, check=True)
    subprocess.run(["git", "push", "-q", str(fleet["remote"]), "main"], cwd=project, check=True)


def tighten_the_spec(fleet):
    """The platform raises a gate threshold, the tolerance and the low tier's drift limit."""
    from shipyard.spec import load_spec

    spec = yaml.safe_load(fleet["spec"].read_text())
    spec["governance"]["gates"] = [{"metric": "accuracy", "min": 0.85}, {"metric": "f1", "min": 0.75}]
    spec["governance"]["champion_tolerance"] = 0.005
    spec["governance"]["risk_tiers"] = {t: {"max_drift_share": 0.3} for t in ("medium", "high")}
    spec["governance"]["risk_tiers"]["low"] = {"max_drift_share": 0.2}
    fleet["spec"].write_text(yaml.safe_dump(spec))
    return load_spec(fleet["spec"])


def test_platform_threshold_change_merges_with_the_data_scientists_params(fleet, cli):
    project = fleet["project"]
    edit(project / "params.yaml", "n_estimators: 100", "n_estimators: 300")
    edit(project / "params.yaml", "max_depth: 6", "max_depth: 8")
    commit_and_push(fleet, "Tune the forest")
    spec = tighten_the_spec(fleet)
    release = release_next(fleet, cli, "1.1.0", lambda p: edit(p / "Makefile", "clean:", "# 1.1.0\nclean:"))
    result = update_project("fleet-demo", str(fleet["remote"]), fleet["url"], release, spec)
    assert result.status == "updated", (result.message, result.files)
    branch = BRANCH_PREFIX + "1.1.0"
    params_text = branch_file(fleet["remote"], branch, "params.yaml")
    params = yaml.safe_load(params_text)
    assert params["train"]["n_estimators"] == 300 and params["train"]["max_depth"] == 8  # the DS's edit
    assert "gate" not in params and "max_drift_share" not in params["monitor"]
    assert params_text == (project / "params.yaml").read_text()  # the update did not touch it
    governance = yaml.safe_load(branch_file(fleet["remote"], branch, "shipyard.yaml"))["governance"]
    assert governance["gate"]["thresholds"] == {"accuracy": {"min": 0.85}, "f1": {"min": 0.75}}
    assert governance["gate"]["champion_tolerance"] == 0.005
    assert governance["monitor"] == {"max_drift_share": 0.2}
    cruft = json.loads(branch_file(fleet["remote"], branch, ".cruft.json"))
    assert (
        cruft["context"]["cookiecutter"]["_gates"] == "accuracy:min:0.85,f1:min:0.75"
    )  # the next update's base


def test_a_spec_or_tier_change_alone_reaches_a_project_on_the_latest_release(fleet, cli):
    release = latest(fleet["url"])
    spec = tighten_the_spec(fleet)
    before = update_project("fleet-demo", str(fleet["remote"]), fleet["url"], release)
    assert before.status == "up-to-date"  # no spec given: nothing the platform owns is compared
    result = update_project("fleet-demo", str(fleet["remote"]), fleet["url"], release, spec, "high")
    assert result.status == "updated", (result.message, result.files)
    assert result.branch.startswith(BRANCH_PREFIX + "1.0.0-governance-")
    catalog = yaml.safe_load(branch_file(fleet["remote"], result.branch, "shipyard.yaml"))
    assert catalog["risk_tier"] == "high"  # the platform's record (`project set-tier`) wins
    assert catalog["governance"]["monitor"] == {"max_drift_share": 0.3}  # the high tier's limit
    assert catalog["governance"]["gate"]["thresholds"]["accuracy"] == {"min": 0.85}
    again = update_project("fleet-demo", str(fleet["remote"]), fleet["url"], release, spec, "high")
    assert again.branch == result.branch  # the same change: the same branch, pushed again


def test_the_teams_in_cluster_runners_reach_an_existing_project(fleet):
    from shipyard.spec import parse_spec

    spec = parse_spec(
        "platform: {name: p, environment: kubernetes, cluster: {kubeconfig_context: c}}\n"
        "teams:\n  - {name: demo, owners: [a@b.co], monthly_budget: 100}\n"
        "node_pools:\n  - {name: cpu, instance_types: [m6i.large], min_size: 0, max_size: 2}\n"
        "ci:\n  runners:\n    provider: github\n"
        "    github: {config_url: 'https://github.com/acme', secret: arc-github}\n"
    )
    result = update_project("fleet-demo", str(fleet["remote"]), fleet["url"], latest(fleet["url"]), spec)
    assert result.status == "updated", (result.message, result.files)
    workflow = yaml.safe_load(branch_file(fleet["remote"], result.branch, ".github/workflows/ci.yml"))
    assert workflow["jobs"]["ci"]["runs-on"] == "shipyard-demo"  # was a hosted runner


def test_a_project_with_the_gate_in_params_moves_it_to_shipyard_yaml(tmp_path, cli):
    fleet = make_fleet(tmp_path, cli, layout=gate_in_params)
    project = fleet["project"]
    assert "champion_tolerance" in (project / "params.yaml").read_text()  # generated before the move
    assert "governance" not in yaml.safe_load((project / "shipyard.yaml").read_text())
    edit(project / "params.yaml", "n_estimators: 100", "n_estimators: 300")
    commit_and_push(fleet, "More trees")
    template = fleet["template"]
    shutil.rmtree(template / "{{cookiecutter.project_slug}}")
    shutil.copytree(
        TEMPLATE / "{{cookiecutter.project_slug}}",
        template / "{{cookiecutter.project_slug}}",
        ignore=shutil.ignore_patterns("__pycache__"),
    )  # the current layout
    release = release_next(fleet, cli, "1.1.0", lambda p: None)
    result = update_project(
        "fleet-demo", str(fleet["remote"]), fleet["url"], release, tighten_the_spec(fleet)
    )
    assert result.status == "updated", (result.message, result.files)
    branch = BRANCH_PREFIX + "1.1.0"
    params_text = branch_file(fleet["remote"], branch, "params.yaml")
    params = yaml.safe_load(params_text)
    assert params["train"]["n_estimators"] == 300
    assert "gate" not in params and "max_drift_share" not in params["monitor"]
    assert "champion_tolerance" not in params_text and "<<<<<<<" not in params_text
    governance = yaml.safe_load(branch_file(fleet["remote"], branch, "shipyard.yaml"))["governance"]
    assert governance["gate"]["thresholds"]["accuracy"] == {"min": 0.85}
    assert governance["monitor"] == {"max_drift_share": 0.2}


def test_an_edited_gate_block_in_an_old_params_yaml_is_refused_naming_it(tmp_path, cli):
    """docs/data-scientist.md: a data scientist who edited the old gate: block gets params.yaml named
    as conflicting, and nothing is pushed (the platform's values come from the spec anyway)."""
    fleet = make_fleet(tmp_path, cli, layout=gate_in_params)
    project = fleet["project"]
    edit(project / "params.yaml", "champion_tolerance: 0.01", "champion_tolerance: 0.5")
    commit_and_push(fleet, "A looser tolerance for my experiments")
    template = fleet["template"]
    shutil.rmtree(template / "{{cookiecutter.project_slug}}")
    shutil.copytree(TEMPLATE / "{{cookiecutter.project_slug}}", template / "{{cookiecutter.project_slug}}",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    release = release_next(fleet, cli, "1.1.0", lambda p: None)
    result = update_project("fleet-demo", str(fleet["remote"]), fleet["url"], release)
    assert result.status == "conflict" and result.files == ["params.yaml"], (result.message, result.files)
    assert branch_file(fleet["remote"], BRANCH_PREFIX + "1.1.0", "params.yaml") is None  # nothing pushed


def test_conflicted_files_sees_markers_and_rejects(tmp_path):
    (tmp_path / "a.txt").write_text("x\n")
    (tmp_path / "b.txt").write_text("y\n")
    git_init(tmp_path)
    (tmp_path / "a.txt").write_text("<<<<<<< ours\nx\n=======\nz\n>>>>>>> theirs\n")
    (tmp_path / "b.txt.rej").write_text("@@ rejected hunk\n")
    assert conflicted_files(tmp_path) == ["a.txt", "b.txt"]


def test_portfolio_shows_each_projects_template_version_and_lag(fleet, cli):
    from shipyard import tags
    from shipyard.catalog.portfolio import template_lag
    from shipyard.records.model import Project

    release_next(fleet, cli, "1.1.0", lambda p: edit(p / "Makefile", "clean:", "# 1.1.0\nclean:"))
    hosted = Project(
        name="fleet-demo", experiment_id="1", team="demo", risk_tier="low", owner="ds@example.com",
        repo=str(fleet["remote"]), labeling=False,
        tags={tags.TEMPLATE_URL: fleet["url"], tags.TEMPLATE_VERSION: "0.9.0"},
    )  # fmt: skip
    elsewhere = Project(
        name="on-github", experiment_id="2", team="demo", risk_tier="low", owner="ds@example.com",
        repo="https://example.invalid/x.git", labeling=False,
        tags={tags.TEMPLATE_URL: fleet["url"], tags.TEMPLATE_VERSION: "1.1.0"},
    )  # fmt: skip
    lag = template_lag([hosted, elsewhere])
    assert lag == {"fleet-demo": ("1.0.0", 1), "on-github": ("1.1.0", 0)}  # the hosted repo's main wins
