"""Fixtures for the infra tests: the mocked graphs of both example stacks, a changed spec, each component.

The Pulumi engine and CLI cannot run on the test machines (no cloud, no engine binary), so every graph
comes from ``harness.py`` running the real program under ``pulumi.runtime.set_mocks``, one process per
run (mocks and config are process-global). The runs happen once per session, as one ``harness.py batch``:
a parent that imports pulumi and the program once and forks each run's process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
HARNESS = Path(__file__).resolve().parent / "harness.py"
POLICY = REPO / "infra" / "policy"


@dataclass
class Resource:
    type: str
    name: str
    inputs: dict[str, Any]
    provider: str = ""

    @property
    def plain(self) -> Any:
        """Inputs with Pulumi's secret wrappers removed (what the provider finally receives)."""
        return unwrap_all(self.inputs)


def unwrap_all(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get("4dabf18193072939515e22adb298388d") == "1b47061264138c4ac30d75fd1eb44270":
            return unwrap_all(value.get("value"))
        return {k: unwrap_all(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_all(v) for v in value]
    return value


class Graph:
    def __init__(self, data: dict[str, Any], stack: str = "") -> None:
        self.stack = stack
        self.resources = [
            Resource(r["type"], r["name"], r["inputs"], r.get("provider", "")) for r in data["resources"]
        ]
        self.exports: dict[str, Any] = {k: v["value"] for k, v in data["exports"].items()}
        self.secret_exports = {k for k, v in data["exports"].items() if v["secret"]}
        self.edges: dict[str, dict[str, Any]] = {e["key"]: e for e in data.get("edges", [])}

    def counts(self) -> Counter[str]:
        return Counter(r.type for r in self.resources)

    def of(self, typ: str) -> list[Resource]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str, name: str) -> Resource:
        matches = [r for r in self.of(typ) if r.name == name]
        assert len(matches) == 1, f"expected one {typ} named {name}, found {[r.name for r in self.of(typ)]}"
        return matches[0]

    def waits_for(self, resource: str, target: str) -> bool:
        """Whether the engine creates ``target`` before ``resource`` (keys "type::name"): through
        depends_on, transitively; depending on a component waits for all its descendants."""
        children: dict[str, list[str]] = {}
        for e in self.edges.values():
            children.setdefault(e["parent"], []).append(e["key"])

        def descendants(key: str) -> set[str]:
            found, todo = set(), [key]
            while todo:
                for c in children.get(todo.pop(), []):
                    if c not in found:
                        found.add(c)
                        todo.append(c)
            return found

        seen, todo = set(), [resource]
        while todo:
            key = todo.pop()
            for dep in self.edges.get(key, {}).get("depends", []):
                for k in (dep, *descendants(dep)):
                    if k == target:
                        return True
                    if k not in seen:
                        seen.add(k)
                        todo.append(k)
        return False

    def key(self, r: Resource) -> str:
        return f"{r.type}::{r.name}"

    def protected(self, r: Resource) -> bool:
        """Whether the resource was registered with ``protect=True`` (destroy and replace refuse it)."""
        return bool(self.edges.get(self.key(r), {}).get("protect"))

    def k8s_objects(self) -> list[Resource]:
        return [r for r in self.resources if r.type.startswith("kubernetes:") and "helm.sh" not in r.type]


def _variant_spec(tmp: Path) -> Path:
    """The AWS example with a second GPU pool and a third team (the spec-change test)."""
    data = yaml.safe_load((REPO / "examples/platform.aws.yaml").read_text())
    data["node_pools"].append(
        {
            "name": "gpu-h100",
            "instance_types": ["p5.48xlarge"],
            "min_size": 0,
            "max_size": 2,
            "gpus_per_node": 8,
            "gpu_type": "nvidia-h100",
            "capacity": "spot",
            "teams": ["vision"],
        }
    )
    data["teams"].append(
        {
            "name": "vision",
            "owners": ["vision-lead@acme.example"],
            "group": "ml-vision",
            "monthly_budget": 20000,
            "quota": {"cpu": "96", "memory": "384Gi", "gpus": 8},
        }
    )
    path = tmp / "platform.variant.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _aws_dev_spec(tmp: Path) -> Path:
    """The AWS example on a dev stack whose GPU nodes are run by the NVIDIA GPU Operator."""
    data = yaml.safe_load((REPO / "examples/platform.aws.yaml").read_text())
    data["platform"]["cluster"]["gpu_operator"] = True
    path = tmp / "platform.aws-dev.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _aws_no_portal_spec(tmp: Path) -> Path:
    """The AWS example with the portal switched off (the spec-change test)."""
    data = yaml.safe_load((REPO / "examples/platform.aws.yaml").read_text())
    data["services"]["portal"]["enabled"] = False
    path = tmp / "platform.no-portal.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _onprem_bare_spec(tmp: Path) -> Path:
    """The on-prem example without Prometheus and without DVC."""
    data = yaml.safe_load((REPO / "examples/platform.kubernetes.yaml").read_text())
    data["services"] |= {"prometheus": {"enabled": False}, "grafana": {"enabled": False}}
    data["services"]["dvc"]["enabled"] = False
    path = tmp / "platform.onprem-bare.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _runners_spec(tmp: Path, provider: str) -> Path:
    """CI runners per team: GitHub (ARC) on the AWS example, GitLab on the on-prem one."""
    example = "aws" if provider == "github" else "kubernetes"
    data = yaml.safe_load((REPO / f"examples/platform.{example}.yaml").read_text())
    settings = {
        "github": {"config_url": "https://github.com/acme-ml", "secret": "arc-github-app"},
        "gitlab": {"url": "https://gitlab.acme.example/", "secret": "gitlab-runner-token"},
    }[provider]
    first = data["teams"][0]["name"]
    data["ci"] = {
        "runners": {
            "provider": provider,
            provider: settings,
            "scale": {"min_runners": 0, "max_runners": 3},
            "teams": {first: {"min_runners": 1, "max_runners": 6}},
        }
    }
    path = tmp / f"platform.{provider}-runners.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="session")
def infra_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("infra")
    runs = {
        "aws": ["program", "--spec", str(REPO / "examples/platform.aws.yaml"), "--stack", "aws-example"],
        "kubernetes": [
            "program",
            "--spec",
            str(REPO / "examples/platform.kubernetes.yaml"),
            "--stack",
            "kubernetes-example",
        ],
        "variant": ["program", "--spec", str(_variant_spec(tmp)), "--stack", "aws-example"],
        "aws_no_portal": ["program", "--spec", str(_aws_no_portal_spec(tmp)), "--stack", "aws-example"],
        "components": ["components"],
        "aws_preview": [
            "program",
            "--spec",
            str(REPO / "examples/platform.aws.yaml"),
            "--stack",
            "aws-example",
            "--preview",
        ],
        "aws_dev": ["program", "--spec", str(_aws_dev_spec(tmp)), "--stack", "acme-dev"],
        "onprem_bare": ["program", "--spec", str(_onprem_bare_spec(tmp)), "--stack", "kubernetes-example"],
        "github_runners": ["program", "--spec", str(_runners_spec(tmp, "github")), "--stack", "aws-example"],
        "gitlab_runners": [
            "program",
            "--spec",
            str(_runners_spec(tmp, "gitlab")),
            "--stack",
            "kubernetes-example",
        ],
    }
    batch = {
        key: {"args": [args[0], str(tmp / f"{key}.json"), *args[1:]], "log": str(tmp / f"{key}.log")}
        for key, args in runs.items()
    }
    (tmp / "runs.json").write_text(json.dumps(batch, indent=1))
    proc = subprocess.Popen(
        [sys.executable, str(HARNESS), "batch", str(tmp / "runs.json")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        start_new_session=True,  # its forked runs share its process group: killed together below
    )
    try:
        out, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        unfinished = [key for key in runs if not (tmp / f"{key}.json").exists()]
        raise AssertionError(f"mocked runs {unfinished} did not finish in 300 s:\n{err[-4000:]}") from None
    finally:
        if proc.poll() is None:  # interrupted: leave no runs behind
            os.killpg(proc.pid, signal.SIGKILL)
    try:
        statuses = json.loads(out)
    except json.JSONDecodeError:
        raise AssertionError(f"harness.py batch failed (exit {proc.returncode}):\n{err[-4000:]}") from None
    batch_said = f"\n(harness.py batch said: {err[-2000:]})" if err.strip() else ""
    results: dict[str, Any] = {}
    logs = results["_logs"] = {}
    for key in runs:
        log = tmp / f"{key}.log"
        # what the program said (its warnings): see infra_log
        logs[key] = log.read_text() if log.exists() else ""
        status = statuses.get(key)
        assert status == 0, f"mocked run {key} failed (exit {status}):\n{logs[key][-4000:]}{batch_said}"
        results[key] = json.loads((tmp / f"{key}.json").read_text())
    return results


@pytest.fixture(scope="session")
def infra_log(infra_runs) -> dict[str, str]:
    """What each mocked run printed (its warnings), by run name."""
    return infra_runs["_logs"]


@pytest.fixture(scope="session")
def aws_graph(infra_runs) -> Graph:
    return Graph(infra_runs["aws"], "aws-example")


@pytest.fixture(scope="session")
def k8s_graph(infra_runs) -> Graph:
    return Graph(infra_runs["kubernetes"], "kubernetes-example")


@pytest.fixture(scope="session")
def variant_graph(infra_runs) -> Graph:
    return Graph(infra_runs["variant"], "aws-example")


@pytest.fixture(scope="session")
def aws_no_portal_graph(infra_runs) -> Graph:
    return Graph(infra_runs["aws_no_portal"], "aws-example")


@pytest.fixture(scope="session")
def aws_preview_graph(infra_runs) -> Graph:
    return Graph(infra_runs["aws_preview"], "aws-example")


@pytest.fixture(scope="session")
def aws_dev_graph(infra_runs) -> Graph:
    return Graph(infra_runs["aws_dev"], "acme-dev")


@pytest.fixture(scope="session")
def onprem_bare_graph(infra_runs) -> Graph:
    return Graph(infra_runs["onprem_bare"], "kubernetes-example")


@pytest.fixture(scope="session")
def github_runners_graph(infra_runs) -> Graph:
    return Graph(infra_runs["github_runners"], "aws-example")


@pytest.fixture(scope="session")
def gitlab_runners_graph(infra_runs) -> Graph:
    return Graph(infra_runs["gitlab_runners"], "kubernetes-example")


@pytest.fixture(scope="session")
def components(infra_runs) -> dict[str, Graph]:
    return {name: Graph(data, "unit") for name, data in infra_runs["components"].items()}


def _policy_modules():
    if (
        str(POLICY) not in sys.path
    ):  # the pack's own modules (distinct names: shipyard_rules, shipyard_policies)
        sys.path.insert(0, str(POLICY))
    import shipyard_policies
    import shipyard_rules

    return shipyard_rules, shipyard_policies


@pytest.fixture(scope="session")
def rules():
    """infra/policy/shipyard_rules.py: the rule functions."""
    return _policy_modules()[0]


@pytest.fixture(scope="session")
def policies():
    """infra/policy/shipyard_policies.py: the pulumi-policy objects the pack serves."""
    return _policy_modules()[1]
