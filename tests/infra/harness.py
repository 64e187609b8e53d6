"""Run the infra Pulumi program (or each component alone) under Pulumi's unit-test mocks; dump the graph.

No Pulumi engine or CLI can run on the test machines, so ``pulumi.runtime.set_mocks`` stands in for
the engine: every resource registration is recorded (type, name, inputs, parent) and answered with
its inputs plus the computed outputs real providers return (ids, ARNs, endpoints). Mocks and config
are process-global, so each run happens in its own process:

    python tests/infra/harness.py program --spec examples/platform.aws.yaml --stack aws-example OUT.json
    python tests/infra/harness.py components OUT.json
"""

from __future__ import annotations

import argparse
import json
import os
import runpy
import sys
from pathlib import Path
from typing import Any

# pulumi_aws and pulumi_kubernetes are ~100 MB of Python: without cached bytecode every run spends
# ~15 s compiling them, so cache it even where PYTHONDONTWRITEBYTECODE is set.
sys.dont_write_bytecode = False

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"

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
    """Stack config as `pulumi config` would hand it to the program (must precede importing pulumi)."""
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
    elif typ == "aws:eks/nodeGroup:NodeGroup":
        out["nodeGroupName"] = inputs.get("nodeGroupName", name)
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
            raise AssertionError(f"unexpected invoke {args.token}: the program must not need one at preview")

    return Mocks()


def record_edges(edges: list[dict[str, Any]]) -> None:
    """Record each resource's parent and explicit depends_on (mock resource args carry neither)."""
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["program", "components"])
    parser.add_argument("out")
    parser.add_argument("--spec")
    parser.add_argument("--stack", default="aws-example")
    parser.add_argument("--drop-config", action="append", default=[], help="leave this shipyard: key unset")
    parser.add_argument("--preview", action="store_true", help="unknown computed outputs, as in a preview")
    a = parser.parse_args()
    if a.mode == "program":
        result = run_program(a.spec, a.stack, tuple(a.drop_config), a.preview)
    else:
        result = run_components()
    Path(a.out).write_text(json.dumps(result, default=str, indent=1))


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    main()
