"""A GPU Job from the template is schedulable on a GPU pool that has zero nodes (AWS example, mocks).

No cluster autoscaler can run here, so the test checks the pieces its scale-up decision rests on:
the autoscaler is installed for this cluster with an IRSA role allowed to resize the group; the
group may be at zero; and the node the group would add (read from its Auto Scaling group's
node-template tags, as the autoscaler does with no node to inspect) carries the labels the Job
selects, only taints the Job tolerates and the GPUs it requests.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import jinja2
import yaml
from shipyard.spec import load_spec
from shipyard.spec.cluster import EKS_VERSIONS, eks_support

REPO = Path(__file__).resolve().parents[2]
AWS_SPEC = load_spec(REPO / "examples/platform.aws.yaml")
JOB = REPO / "project-template/{{cookiecutter.project_slug}}/k8s/train-job.yaml"
TEMPLATE = "k8s.io/cluster-autoscaler/node-template/"


def template_job(pool: str, team: str) -> dict:
    answers = {
        "project_slug": "churn",
        "team": team,
        "_gpu_node_pool": pool,
        "_image_registry": "registry.example.com/ml",
        "_gpu_instance_type": "g5.xlarge",
    }
    return yaml.safe_load(jinja2.Template(JOB.read_text()).render(cookiecutter=answers))


def node_template(graph, pool: str) -> dict[str, dict[str, str]]:
    """What the autoscaler believes a new node of ``pool`` has: labels, taints, resources."""
    (group,) = [
        r.plain
        for r in graph.of("aws:eks/nodeGroup:NodeGroup")
        if r.plain["nodeGroupNamePrefix"] == f"{pool}-"
    ]
    asg = f"eks-pool-{pool}-ng-0ac8e7d2"  # the mock's name for the group's Auto Scaling group
    found: dict[str, dict[str, str]] = {"label": {}, "taint": {}, "resources": {}, "group": group}
    for tag in graph.of("aws:autoscaling/tag:Tag"):
        if tag.plain["autoscalingGroupName"] != asg:
            continue
        kind, _, key = tag.plain["tag"]["key"].removeprefix(TEMPLATE).partition("/")
        found[kind][key] = tag.plain["tag"]["value"]
    return found


def why_not_schedulable(pod: dict, node: dict) -> list[str]:
    problems = []
    for key, value in (pod.get("nodeSelector") or {}).items():
        if node["label"].get(key) != value:
            problems.append(f"selects {key}={value}, a new node would have {node['label'].get(key)!r}")
    for key, taint in node["taint"].items():
        value, _, effect = taint.partition(":")
        if effect in ("NoSchedule", "NoExecute") and not any(
            t.get("key") == key
            and (t.get("operator") == "Exists" or t.get("value") == value)
            and t.get("effect") in (None, effect)
            for t in pod.get("tolerations") or []
        ):
            problems.append(f"does not tolerate {key}={value}:{effect}")
    for container in pod["containers"]:
        for resource, amount in (container.get("resources", {}).get("requests") or {}).items():
            if "/" in resource and int(amount) > int(node["resources"].get(resource, "0")):
                problems.append(
                    f"requests {amount} {resource}, a new node offers {node['resources'].get(resource)}"
                )
    return problems


def test_a_template_gpu_job_fits_a_gpu_pool_at_zero_nodes(aws_graph):
    (gpu_pool,) = AWS_SPEC.gpu_pools
    node = node_template(aws_graph, gpu_pool.name)
    assert node["group"]["scalingConfig"]["minSize"] == 0  # the case that needs the autoscaler
    assert node["group"]["scalingConfig"]["maxSize"] >= 1
    job = template_job(gpu_pool.name, AWS_SPEC.teams[0].name)
    pod = job["spec"]["template"]["spec"]
    assert why_not_schedulable(pod, node) == []
    # and the check can fail: a CPU pool (no GPU, no label match) is refused
    assert why_not_schedulable(pod, node_template(aws_graph, "cpu-work"))


def test_the_autoscaler_runs_for_this_cluster_and_may_resize_its_groups(aws_graph):
    (release,) = [
        r.plain
        for r in aws_graph.of("kubernetes:helm.sh/v3:Release")
        if r.plain["name"] == "cluster-autoscaler"
    ]
    values = release["values"]
    assert values["autoDiscovery"]["clusterName"] == AWS_SPEC.platform.cluster.name
    assert values["cloudProvider"] == "aws" and values["awsRegion"] == AWS_SPEC.platform.region
    minor = AWS_SPEC.platform.cluster.kubernetes_version
    assert re.fullmatch(rf"v{re.escape(minor)}\.\d+", values["image"]["tag"])  # same minor as the cluster
    role_arn = values["rbac"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
    (role,) = [r for r in aws_graph.of("aws:iam/role:Role") if role_arn.endswith(r.name)]
    trust = json.loads(role.plain["assumeRolePolicy"])["Statement"][0]["Condition"]["StringEquals"]
    assert "system:serviceaccount:kube-system:cluster-autoscaler" in trust.values()
    (policy,) = [r.plain for r in aws_graph.of("aws:iam/rolePolicy:RolePolicy") if r.name == role.name]
    statements = json.loads(policy["policy"])["Statement"]
    resize = [s for s in statements if "autoscaling:SetDesiredCapacity" in s["Action"]]
    assert resize and resize[0]["Condition"]["StringEquals"] == {
        f"aws:ResourceTag/k8s.io/cluster-autoscaler/{AWS_SPEC.platform.cluster.name}": "owned"
    }


def test_the_autoscaler_image_covers_every_eks_version_the_spec_accepts():
    sys.path.insert(0, str(REPO / "infra"))
    from components.autoscaler import IMAGE_TAGS

    accepted = {v for v in EKS_VERSIONS if eks_support(v) in ("standard", "extended")}
    assert accepted and accepted <= set(IMAGE_TAGS)
