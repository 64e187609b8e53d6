"""Run the infra Pulumi program (or each component alone) under Pulumi's unit-test mocks; dump the graph.

No Pulumi engine or CLI can run on the test machines, so ``pulumi.runtime.set_mocks`` stands in for
the engine: every resource registration is recorded (type, name, inputs, parent) and answered with
its inputs plus the computed outputs real providers return (ids, ARNs, endpoints). Mocks and config
are process-global, so each run happens in its own process:

    python tests/infra/harness.py program OUT.json --spec examples/platform.aws.yaml --stack aws-example
    python tests/infra/harness.py components OUT.json

Most of a run's CPU goes to importing pulumi and the provider SDKs, so ``batch`` runs many at once
(the test fixture's way): one parent imports the program's modules and the provider submodules they
name (``preload``), then forks one child per run. Each child is a run's own process, as above: it sets
its config and mocks, runs, writes OUT.json and its output (stdout and stderr) to its log, and exits
with the run's status; the parent has set no config, mocks, event loop or thread to inherit.

    python tests/infra/harness.py batch RUNS.json [--jobs N]

RUNS.json maps each run's name to ``{"args": [program|components, OUT.json, ...], "log": LOG}``; the
parent prints ``{name: exit status}`` (as JSON) and exits 1 if any run failed.
"""

from __future__ import annotations

import argparse
import ast
import gc
import hashlib
import importlib
import json
import os
import runpy
import sys
import traceback
import types
from pathlib import Path
from typing import Any, NoReturn

# pulumi_aws and pulumi_kubernetes are ~100 MB of Python: without cached bytecode every run spends
# ~15 s compiling them, so cache it even where PYTHONDONTWRITEBYTECODE is set.
sys.dont_write_bytecode = False

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
COMPONENT_CASES = Path(__file__).resolve().with_name("component_cases.py")

# What the stacks' config holds besides the spec: endpoints (plain) and secrets (set with
# `pulumi config set --secret`). Fake values only.
FAKE_ENDPOINTS: dict[str, Any] = {
    "postgres": {
        "host": "pg.corp.example",
        "port": 5432,
        "username": "shipyard",
        "mlflowDatabase": "mlflow",
        "labelStudioDatabase": "labelstudio",
    },
    "oidc": {"issuerUrl": "https://sso.corp.example/realms/ml", "clientId": "mlflow"},
}
FAKE_SECRETS: dict[str, str] = {
    "postgresPassword": "pg-secret@Zq/81",  # characters a URI must escape
    "s3AccessKeyId": "AKIA-FAKE-ACCESS-KEY",
    "s3SecretAccessKey": "s3-secret-Xk22",
    "oidcClientSecret": "oidc-secret-Pp09",
}


def configure(spec: str | None, drop: tuple[str, ...] = ()) -> None:
    """Stack config as `pulumi config` would hand it to the program (before the program reads it:
    pulumi.Config reads PULUMI_CONFIG from the environment on each lookup)."""
    config: dict[str, str] = {}
    if spec:
        config["shipyard:spec"] = str(Path(spec).resolve())
    for key, value in FAKE_ENDPOINTS.items():
        config[f"shipyard:{key}"] = json.dumps(value)
    for key, value in FAKE_SECRETS.items():
        config[f"shipyard:{key}"] = value
    secret_keys = [f"shipyard:{key}" for key in FAKE_SECRETS]
    for key in drop:  # a stack that lacks this setting
        config.pop(f"shipyard:{key}", None)
    os.environ["PULUMI_CONFIG"] = json.dumps(config)
    os.environ["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(secret_keys)


def _computed(typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """The outputs a real provider computes that the program reads back."""
    arn = f"arn:aws:{typ.split(':')[1].split('/')[0]}:us-east-1:123456789012:{name}"
    out: dict[str, Any] = {"arn": arn}
    if typ == "aws:s3/bucket:Bucket":  # real ARN shapes: policies match on them
        out["bucket"] = inputs.get("bucket", name)
        out["arn"] = f"arn:aws:s3:::{out['bucket']}"
    elif typ == "aws:eks/cluster:Cluster":
        out |= {
            "endpoint": "https://ABC123.gr7.us-east-1.eks.amazonaws.com",
            "certificateAuthority": {"data": "Q0EtREFUQQ=="},
            "identities": [{"oidcs": [{"issuer": "https://oidc.eks.us-east-1.amazonaws.com/id/ABC123"}]}],
            "name": inputs.get("name", name),
        }
    elif typ == "aws:rds/instance:Instance":
        out |= {"address": f"{name}.cluster.us-east-1.rds.amazonaws.com", "port": 5432}
    elif typ == "aws:ec2/launchTemplate:LaunchTemplate":
        out["latestVersion"] = 1
    elif typ == "aws:eks/nodeGroup:NodeGroup":  # EKS names a group from its prefix
        out["nodeGroupName"] = (
            inputs.get("nodeGroupName") or f"{inputs.get('nodeGroupNamePrefix', name)}0a1b2c"
        )
        out["resources"] = [{"autoscalingGroups": [{"name": f"eks-{name}-0ac8e7d2"}]}]
    elif typ == "random:index/randomId:RandomId":
        out["hex"] = "5eed1d00"
    elif typ == "random:index/randomPassword:RandomPassword":
        out["result"] = f"generated-secret-{name}"
    elif typ == "aws:iam/role:Role":
        out["name"] = name
        out["arn"] = f"arn:aws:iam::123456789012:role/{name}"
    elif typ == "aws:rds/subnetGroup:SubnetGroup":
        out["name"] = name
    elif typ == "aws:ecr/repository:Repository":
        out["registryId"] = "123456789012"
        out["repositoryUrl"] = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{inputs.get('name', name)}"
    elif typ == "docker-build:index:Image":  # what the push returns: the manifest's digest
        out["digest"] = "sha256:" + hashlib.sha256(name.encode()).hexdigest()
    return out


def make_mocks(records: list[dict[str, Any]], preview: bool = False):
    """Mocks that answer like a provider: on ``preview`` the computed outputs (ids, ARNs, endpoints)
    are unknown, as in a real `pulumi preview` of a new stack."""
    import pulumi

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs):
            computed = {} if preview else _computed(args.typ, args.name, args.inputs)
            outputs = {**args.inputs, **computed}
            records.append(
                {"type": args.typ, "name": args.name, "inputs": args.inputs, "provider": args.provider or ""}
            )
            # S3 names a bucket by its name; everything else gets a stable fake id
            rid = outputs["bucket"] if args.typ == "aws:s3/bucket:Bucket" else f"{args.name}-id"
            return rid, outputs

        def call(self, args: pulumi.runtime.MockCallArgs):
            if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
                return {
                    "names": ["us-east-1a", "us-east-1b", "us-east-1c"],
                    "zoneIds": ["use1-az1", "use1-az2", "use1-az4"],
                }, []
            if args.token == "aws:eks/getAddonVersion:getAddonVersion":
                # EKS's default version of the addon for that Kubernetes version
                k8s_minor = args.args["kubernetesVersion"].split(".")[1]
                version = f"v1.{k8s_minor}.0-eksbuild.1"
                return {"addonName": args.args["addonName"], "version": version, "id": version}, []
            if args.token == "aws:ecr/getAuthorizationToken:getAuthorizationToken":
                return {"userName": "AWS", "password": "ecr-token", "id": "123456789012"}, []
            raise AssertionError(f"unexpected invoke {args.token}: the program must not need one at preview")

    return Mocks()


def record_edges(edges: list[dict[str, Any]]) -> None:
    """Record each resource's parent, explicit depends_on and protect (mock resource args carry none)."""
    import pulumi

    original = pulumi.Resource.__init__

    def key(r: Any) -> str:
        return f"{r._type}::{r._name}"

    def init(self, t, name, custom, props=None, opts=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        deps = opts.depends_on if opts else None
        deps = list(deps) if isinstance(deps, list | tuple) else [deps] if deps else []
        parent = opts.parent if opts and opts.parent else None
        edges.append(
            {
                "key": f"{t}::{name}",
                "custom": bool(custom),
                "parent": key(parent) if parent is not None else "",
                "depends": [key(d) for d in deps if isinstance(d, pulumi.Resource)],
                "protect": bool(opts.protect) if opts else False,
            }
        )
        original(self, t, name, custom, props, opts, *args, **kwargs)

    pulumi.Resource.__init__ = init  # type: ignore[method-assign]


def _resolve(value: Any) -> tuple[Any, bool]:
    """The value of an export and whether Pulumi keeps it secret."""
    import pulumi
    from pulumi.runtime.sync_await import _sync_await

    out = pulumi.Output.from_input(value)
    return _sync_await(out.future()), bool(_sync_await(out.is_secret()))


def run_program(spec: str, stack: str, drop: tuple[str, ...] = (), preview: bool = False) -> dict[str, Any]:
    configure(spec, drop)
    import pulumi

    records: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    record_edges(edges)
    pulumi.runtime.set_mocks(make_mocks(records, preview), project="shipyard", stack=stack, preview=preview)
    exports: dict[str, Any] = {}
    pulumi.export = lambda key, value: exports.__setitem__(key, value)  # type: ignore[assignment]
    sys.path.insert(0, str(INFRA))
    os.chdir(INFRA)

    @pulumi.runtime.test
    def run():
        runpy.run_path(str(INFRA / "__main__.py"), run_name="__main__")
        return pulumi.Output.all(*exports.values())

    run()
    resolved = {}
    for key, value in exports.items():
        v, secret = _resolve(value)
        resolved[key] = {"value": v, "secret": secret}
    return {"resources": records, "exports": resolved, "edges": edges}


def run_components() -> dict[str, Any]:
    """Each component alone, each in a fresh mocked run (records reset between runs)."""
    configure(None)
    import pulumi

    sys.path.insert(0, str(INFRA))
    from component_cases import CASES  # tests/infra/component_cases.py

    results: dict[str, Any] = {}
    for case_name, build in CASES.items():
        records: list[dict[str, Any]] = []
        pulumi.runtime.set_mocks(make_mocks(records), project="shipyard", stack="unit", preview=False)
        holder: dict[str, Any] = {}

        @pulumi.runtime.test
        def run(build=build, holder=holder):
            holder["outputs"] = build()
            return pulumi.Output.all(*holder["outputs"].values())

        run()
        outputs = {}
        for key, value in holder["outputs"].items():
            v, secret = _resolve(value)
            outputs[key] = {"value": v, "secret": secret}
        results[case_name] = {"resources": records, "exports": outputs}
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["program", "components"])
    parser.add_argument("out")
    parser.add_argument("--spec")
    parser.add_argument("--stack", default="aws-example")
    parser.add_argument("--drop-config", action="append", default=[], help="leave this shipyard: key unset")
    parser.add_argument("--preview", action="store_true", help="unknown computed outputs, as in a preview")
    a = parser.parse_args(argv)
    if a.mode == "program":
        result = run_program(a.spec, a.stack, tuple(a.drop_config), a.preview)
    else:
        result = run_components()
    Path(a.out).write_text(json.dumps(result, default=str, indent=1))


def _provider_names(source: Path) -> set[tuple[str, ...]]:
    """Each attribute chain off a provider SDK that ``source`` names, as (module, attr, ...):
    ``aws.ec2.Vpc`` after ``import pulumi_aws as aws`` is ("pulumi_aws", "ec2", "Vpc")."""
    tree = ast.parse(source.read_text(), str(source))
    bound: dict[str, tuple[str, ...]] = {}  # local name -> (module, attr, ...)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("pulumi_"):
                    local = alias.asname or alias.name.split(".")[0]
                    bound[local] = (alias.name,) if alias.asname else (alias.name.split(".")[0],)
        elif (
            isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("pulumi_")
        ):
            for alias in node.names:
                bound[alias.asname or alias.name] = (node.module, alias.name)
    chains = set(bound.values())
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            attrs: list[str] = []
            value: ast.expr = node
            while isinstance(value, ast.Attribute):
                attrs.append(value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in bound:
                chains.add((*bound[value.id], *reversed(attrs)))
    return chains


# loaded by pulumi_kubernetes itself while a run reads its objects' outputs (no source names it)
PRELOAD_ALSO = {("pulumi_kubernetes", "meta", "v1")}


def preload() -> None:
    """Import what every run imports, once, in the parent of ``batch``'s forked runs.

    That is the program's own modules (none reads config, registers a resource, makes an Output or
    starts an event loop or thread at import) and the provider submodules they name: pulumi_aws and
    pulumi_kubernetes import a subpackage (``aws.ec2``) on first use, so each attribute chain the
    program and component_cases.py name off one (``aws.ec2.Vpc``) is resolved here. component_cases.py
    is only read: it makes Outputs at import, which needs an event loop. Best effort: what fails to
    import here, a run imports (and reports) itself."""
    sys.path.insert(0, str(INFRA))
    modules = [
        "settings",
        "program",
        *(f"components.{p.stem}" for p in sorted(INFRA.glob("components/*.py"))),
    ]
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # the runs report it with their output
            print(f"preload: {name}: {exc!r}", file=sys.stderr)
    sources = [*INFRA.glob("*.py"), *INFRA.glob("components/*.py"), COMPONENT_CASES]
    chains = set(PRELOAD_ALSO).union(*(_provider_names(source) for source in sources))
    for root, *attrs in sorted(chains):
        try:
            target: Any = importlib.import_module(root)
            for attr in attrs:
                target = getattr(target, attr)
            if isinstance(target, types.ModuleType):
                hasattr(target, "__all__")  # a lazy module loads on (almost) any attribute
        except Exception as exc:  # the runs that use it report it
            print(f"preload: {'.'.join((root, *attrs))}: {exc!r}", file=sys.stderr)


def _exit_status(argv: list[str]) -> int:
    """Run ``main(argv)`` and return the status ``python harness.py ARGV`` would exit with."""
    try:
        main(argv)
    except SystemExit as exc:  # argparse's usage errors, sys.exit
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    except BaseException:  # as the interpreter reports an uncaught exception
        traceback.print_exc()
        return 1
    return 0


def _child(argv: list[str], log: str) -> NoReturn:
    """A forked run: its output goes to ``log``; it never returns into the parent's loop."""
    status = 1
    try:
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        gc.enable()
        status = _exit_status(argv)
    except BaseException:  # setting up its log: to the log if it got that far, else the parent's stderr
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(status)


def run_batch(runs: dict[str, dict[str, Any]], jobs: int) -> dict[str, int]:
    """Fork one child per run (at most ``jobs`` at a time) after ``preload``; each run's exit status."""
    gc.disable()  # no collections while preloading; frozen below, the children never scan it
    preload()
    gc.freeze()
    sys.stdout.flush()
    sys.stderr.flush()
    pending = list(runs.items())
    running: dict[int, str] = {}
    statuses: dict[str, int] = {}
    while pending or running:
        while pending and len(running) < jobs:
            name, run = pending.pop(0)
            pid = os.fork()
            if pid == 0:
                _child([str(arg) for arg in run["args"]], str(run["log"]))
            running[pid] = name
        pid, wait_status = os.wait()
        statuses[running.pop(pid)] = os.waitstatus_to_exitcode(wait_status)
    return statuses


def batch_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="harness.py batch")
    parser.add_argument("runs", help='JSON: {name: {"args": [mode, OUT.json, ...], "log": LOG}}')
    # on 2 cores, 2 at a time and all ten at once took the same CPU and wall time; fewer is less memory
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="runs at a time")
    a = parser.parse_args(argv)
    statuses = run_batch(json.loads(Path(a.runs).read_text()), max(1, a.jobs))
    print(json.dumps(statuses))
    sys.exit(1 if any(statuses.values()) else 0)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    if sys.argv[1:2] == ["batch"]:
        batch_main(sys.argv[2:])
    else:
        main()
