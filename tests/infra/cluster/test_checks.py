"""Each check on small synthetic manifests: it reports the defect it exists for, and nothing on the
corrected manifest (so test_example_stacks.py can fail, and fails only for a reason)."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest
import yaml

from tests.infra.conftest import Graph

from . import admission, images, netpol, ordering, origins, rbac, render, scheduling, validate, view
from .model import Obj, Pool, View

CPU_POOL = Pool("workers", {"shipyard.io/pool": "workers"}, [], 3920, 14 * 2**30, 0, 0, 3)
GPU_POOL = Pool(
    "gpu",
    {"shipyard.io/pool": "gpu", "shipyard.io/gpu-type": "nvidia-a10g"},
    [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}],
    3920,
    14 * 2**30,
    1,
    0,
    2,
)


def _view(*objects: Obj, pools=(CPU_POOL, GPU_POOL), graph=None, kube_version="v1.35.0-eks-3a5b7c9") -> View:
    return View("test", "aws", kube_version, list(objects), list(pools), graph)


def _deployment(name="app", ns="apps", pod=None, labels=None) -> dict:
    labels = labels or {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": pod or {"containers": [{"name": "c", "image": "x:1"}]},
            },
        },
    }


def _with_pod(kind: str, pod: dict, name="w", ns="apps") -> dict:
    m = _deployment(name, ns, pod)
    m["kind"] = kind
    if kind == "DaemonSet":
        m["spec"].pop("replicas", None)
    if kind == "Job":
        m["apiVersion"] = "batch/v1"
        del m["spec"]["selector"]
        m["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    return m


def test_validate_reports_an_unknown_field_and_a_custom_resource_against_its_crd():
    good = _deployment()
    bad = copy.deepcopy(good)
    bad["spec"]["replica"] = 2
    crd = yaml.safe_load("""
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
""")
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": 2},
    }
    typo = {**widget, "spec": {"sise": 2}}
    assert validate.check(_view(Obj(good, "a"), Obj(crd, "r"), Obj(widget, "b"))) == []
    found = validate.check(_view(Obj(bad, "a"), Obj(crd, "r"), Obj(typo, "b")))
    assert [f.object for f in found] == ["Deployment apps/app", "Widget w"]
    with pytest.raises(kubernetes_validate.ValidationError):  # the same verdict as kubernetes-validate's own
        kubernetes_validate.validate(bad, "1.35", strict=True)
    retired = {**good, "apiVersion": "apps/v1beta1"}
    assert [f.message for f in validate.check(_view(Obj(retired, "a")))] == [
        "apps/v1beta1 Deployment is not served by Kubernetes 1.35"
    ]
    orphan = validate.check(_view(Obj(widget, "b")))
    assert [f.message for f in orphan] == ["example.com/v1 Widget: no CRD in the stack defines it"]


LIMITS = {
    "apiVersion": "v1",
    "kind": "LimitRange",
    "metadata": {"name": "d", "namespace": "team"},
    "spec": {
        "limits": [
            {
                "type": "Container",
                "default": {"cpu": "1", "memory": "2Gi"},
                "defaultRequest": {"cpu": "250m", "memory": "512Mi"},
            }
        ]
    },
}
QUOTA = {
    "apiVersion": "v1",
    "kind": "ResourceQuota",
    "metadata": {"name": "q", "namespace": "team"},
    "spec": {"hard": {"requests.cpu": "4", "limits.cpu": "4", "requests.nvidia.com/gpu": "1"}},
}


def _job(resources: dict, env_from=None) -> dict:
    container = {"name": "train", "image": "x:1", "resources": resources, "envFrom": env_from or []}
    return _with_pod("Job", {"containers": [container]}, "train", "team")


def test_admission_applies_limit_range_defaults_quota_and_references():
    rejected = _job({"requests": {"cpu": "2", "nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "1"}})
    found = admission.check(_view(Obj(LIMITS, "t"), Obj(QUOTA, "t"), Obj(rejected, "j")))
    assert [f.message for f in found] == [
        "container train: cpu request 2 exceeds its limit 1 (after the LimitRange's defaults): the pod is rejected"  # noqa: E501
    ]
    fine = _job(
        {"requests": {"cpu": "2", "nvidia.com/gpu": "1"}, "limits": {"cpu": "2", "nvidia.com/gpu": "1"}}
    )
    assert admission.check(_view(Obj(LIMITS, "t"), Obj(QUOTA, "t"), Obj(fine, "j"))) == []
    greedy = _job(
        {"requests": {"cpu": "2", "nvidia.com/gpu": "2"}, "limits": {"cpu": "2", "nvidia.com/gpu": "2"}}
    )
    assert (
        "exceeds the namespace quota" in admission.check(_view(Obj(QUOTA, "t"), Obj(greedy, "j")))[0].message
    )
    reads = _job({"limits": {"cpu": "1"}}, [{"configMapRef": {"name": "shipyard-endpoints"}}])
    assert [f.message for f in admission.check(_view(Obj(reads, "j")))] == [
        "needs ConfigMap team/shipyard-endpoints, which nothing in the stack creates: the pod cannot start"
    ]
    cm = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "shipyard-endpoints", "namespace": "team"},
    }
    assert admission.check(_view(Obj(reads, "j"), Obj(cm, "c"))) == []


DCGM = {
    "containers": [{"name": "e", "image": "nvcr.io/nvidia/k8s/dcgm-exporter:4.2.3"}],
    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
}
GPU_AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": "shipyard.io/gpu-type", "operator": "Exists"}]}
            ]
        }
    }
}


def test_scheduling_keeps_gpu_daemonsets_on_gpu_pools_and_finds_every_workload_a_pool():
    loose = Obj(_with_pod("DaemonSet", DCGM), "d")
    assert [f.message for f in scheduling.check(_view(loose))] == [
        "needs a GPU (NVML) but lands on pools without one: ['workers']: it crash-loops there"
    ]
    placed = Obj(_with_pod("DaemonSet", {**DCGM, "affinity": GPU_AFFINITY}), "d")
    assert scheduling.check(_view(placed)) == []
    nowhere = Obj(
        _deployment(pod={"containers": [{"name": "c", "image": "x:1"}], "nodeSelector": {"pool": "x"}}), "d"
    )
    assert "no node pool can run it" in scheduling.check(_view(nowhere))[0].message
    gpu_job = {
        "containers": [{"name": "t", "image": "x:1", "resources": {"limits": {"nvidia.com/gpu": "1"}}}],
        "nodeSelector": {"shipyard.io/pool": "gpu"},
    }
    assert "untolerated taint" in scheduling.check(_view(Obj(_with_pod("Job", gpu_job), "j")))[0].message
    gpu_job["tolerations"] = DCGM["tolerations"]
    assert scheduling.check(_view(Obj(_with_pod("Job", gpu_job), "j"))) == []
    big = copy.deepcopy(gpu_job)
    big["containers"][0]["resources"]["requests"] = {"cpu": "8"}
    assert "big enough" in scheduling.check(_view(Obj(_with_pod("Job", big), "j")))[0].message


def test_scheduling_wants_the_autoscaler_gpu_label_on_aws():
    ca = Obj(
        _deployment(
            "ca",
            "kube-system",
            {
                "containers": [
                    {
                        "name": "c",
                        "image": "ca:1",
                        "command": ["./cluster-autoscaler", "--cloud-provider=aws"],
                    }
                ]
            },
        ),
        "r",
    )
    assert [f.object for f in scheduling.check(_view(ca))] == ["NodePool gpu"]
    labelled = Pool(
        **{**vars(GPU_POOL), "labels": {**GPU_POOL.labels, scheduling.AWS_GPU_LABEL: "nvidia-a10g"}}
    )
    assert scheduling.check(_view(ca, pools=(CPU_POOL, labelled))) == []


def _portal(egress_extra: list) -> tuple[Obj, Obj]:
    pod = {
        "containers": [
            {
                "name": "oauth2-proxy",
                "image": "quay.io/oauth2-proxy/oauth2-proxy:v7.8.1",
                "args": ["--oidc-issuer-url=https://sso.corp.example/realms/ml"],
            }
        ]
    }
    dns = {
        "to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
        "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
    }
    own = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "apps"}}}]}
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "p", "namespace": "apps"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "app"}},
            "policyTypes": ["Egress"],
            "egress": [dns, own, *egress_extra],
        },
    }
    return Obj(_deployment(pod=pod), "d"), Obj(policy, "p")


def test_netpol_lets_a_sidecar_reach_its_issuer_only_if_egress_allows_it():
    found = netpol.check(_view(*_portal([])))
    assert [f.message for f in found] == [
        "egress to sso.corp.example:443/TCP is not allowed by its NetworkPolicies"
    ]
    issuer = {"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 443, "protocol": "TCP"}]}
    assert netpol.check(_view(*_portal([issuer]))) == []


def test_netpol_checks_the_callee_ingress():
    client = _deployment(
        "job",
        "team",
        {
            "containers": [
                {
                    "name": "c",
                    "image": "x:1",
                    "env": [{"name": "U", "value": "http://mlflow.sys.svc.cluster.local:5000"}],
                }
            ]
        },
    )
    server = _deployment("mlflow", "sys")
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "mlflow", "namespace": "sys"},
        "spec": {"selector": {"app": "mlflow"}, "ports": [{"port": 5000, "targetPort": 5000}]},
    }

    def policy(ns):
        return {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "m", "namespace": "sys"},
            "spec": {
                "podSelector": {},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}]}
                ],
            },
        }

    objs = [Obj(client, "a"), Obj(server, "b"), Obj(service, "b")]
    assert (
        "does not let it in on port 5000" in netpol.check(_view(*objs, Obj(policy("other"), "p")))[0].message
    )
    assert netpol.check(_view(*objs, Obj(policy("team"), "p"))) == []


def test_rbac_ci_identities_cannot_read_secrets():
    sa = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "shipyard-runner", "namespace": "t"},
    }

    def binding(role):
        return {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "b", "namespace": "t"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": "shipyard-runner", "namespace": "t"}],
        }

    assert [f.object for f in rbac.check(_view(Obj(sa, "s"), Obj(binding("edit"), "b")))] == [
        "RoleBinding t/b"
    ]
    assert rbac.check(_view(Obj(sa, "s"), Obj(binding("view"), "b"))) == []
    jobs = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "jobs"},
        "rules": [{"apiGroups": ["batch"], "resources": ["jobs"], "verbs": ["*"]}],
    }
    assert rbac.check(_view(Obj(sa, "s"), Obj(jobs, "r"), Obj(binding("jobs"), "b"))) == []


def _image(image: str) -> Obj:
    return Obj(_deployment(pod={"containers": [{"name": "c", "image": image}]}), "d")


def test_images_must_be_published_and_not_tagged_with_the_vendor_version():
    assert (
        "built and published by nothing"
        in images.check(_view(_image("ghcr.io/shipyard-ml/unbuilt:0.1.0")))[0].message
    )
    assert images.check(_view(_image("ghcr.io/shipyard-ml/shipyard:0.1.0@sha256:" + "0" * 64))) == []
    assert images.check(_view(_image("registry.k8s.io/kubectl:v1.35.0"))) == []
    assert (
        "version string"
        in images.check(_view(_image("registry.k8s.io/kubectl:v1.35.0-eks-3a5b7c9")))[0].message
    )


def test_a_workflow_publishes_what_it_pushes_not_what_its_comments_name(tmp_path):
    """The release workflow pushes ghcr.io/${{ github.repository_owner }}/shipyard; an image a
    comment mentions is published by nothing."""
    assert "ghcr.io/shipyard-ml/shipyard" in images.published(_view())
    flows = tmp_path / ".github" / "workflows"
    flows.mkdir(parents=True)
    (flows / "release.yml").write_text(
        "# pulls ghcr.io/shipyard-ml/mentioned\n"
        "env: {IMAGE: 'ghcr.io/${{ github.repository_owner }}/pushed'}\n"
        "jobs: {b: {steps: [{uses: docker/build-push-action@v6, with: {push: true}}]}}\n"
    )
    assert images.published(_view(), root=tmp_path) == {"ghcr.io/shipyard-ml/pushed"}


def test_a_chart_that_tags_an_image_with_the_kube_version_is_caught(tmp_path):
    """Helm's engine sees the target's version (render.py passes kube_version): a chart that tags
    kubectl with .Capabilities.KubeVersion.Version asks EKS for an image no registry has."""
    chart = tmp_path / "kubectl-job"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: kubectl-job\nversion: 0.1.0\n")
    (chart / "templates" / "job.yaml").write_text(
        yaml.safe_dump(
            _with_pod(
                "Job",
                {
                    "containers": [
                        {
                            "name": "k",
                            "image": "registry.k8s.io/kubectl:{{ .Capabilities.KubeVersion.Version }}",
                        }
                    ]
                },
            )
        )
    )
    eks = view.kube_version("aws", "1.35")
    (job,) = render.render(chart, {}, "k", "apps", eks)
    assert [f.message for f in images.check(_view(Obj(job, "r", "kubectl-job"), kube_version=eks))] == [
        f"container k: registry.k8s.io/kubectl:{eks} is tagged with the cluster's version string ({eks}): "
        "no such image is published"
    ]


def test_render_sees_the_target_kubernetes_version():
    """kube-prometheus-stack 75.15.1 tags its CRD upgrade job's kubectl with the version's x.y.z
    (regexFind): the version passed reaches the templates (the SDK's own default is v1.36.0)."""
    values = {"crds": {"upgradeJob": {"enabled": True}}}
    out = render.render(
        render.archive("kube-prometheus-stack", "75.15.1"), values, "m", "mon", "v1.31.4-eks-1a2b3c4"
    )
    job = next(m for m in out if m["kind"] == "Job" and "upgrade" in m["metadata"]["name"])
    kubectl = [c["image"] for c in job["spec"]["template"]["spec"]["containers"] if c["name"] == "kubectl"]
    assert kubectl == ["registry.k8s.io/kubectl:v1.31.4"]


def _graph(depends: bool) -> Graph:
    edges = [
        {"key": "helm::lb", "parent": "", "depends": []},
        {"key": "helm::ca", "parent": "", "depends": ["helm::lb"] if depends else []},
    ]
    return Graph({"resources": [], "exports": {}, "edges": edges})


def test_ordering_webhooks_and_crds_come_first():
    hook = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "MutatingWebhookConfiguration",
        "metadata": {"name": "lb"},
        "webhooks": [
            {
                "name": "mservice.elbv2.k8s.aws",
                "failurePolicy": "Fail",
                "rules": [
                    {
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "operations": ["CREATE"],
                        "resources": ["services"],
                    }
                ],
            }
        ],
    }
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "ca", "namespace": "kube-system"},
        "spec": {},
    }
    objs = [Obj(hook, "helm::lb", "aws-load-balancer-controller"), Obj(svc, "helm::ca", "cluster-autoscaler")]
    assert [f.object for f in ordering.check(_view(*objs, graph=_graph(False)))] == ["Service kube-system/ca"]
    assert ordering.check(_view(*objs, graph=_graph(True))) == []
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "w"},
        "spec": {"group": "example.com", "names": {"kind": "Widget"}, "versions": [{"name": "v1"}]},
    }
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "n"}}
    objs = [Obj(crd, "helm::lb", "x"), Obj(widget, "helm::ca", "y")]
    assert "which installs its CRD" in ordering.check(_view(*objs, graph=_graph(False)))[0].message
    assert ordering.check(_view(*objs, graph=_graph(True))) == []


SPOT_POOL = Pool(
    "spot",
    {"shipyard.io/pool": "spot", "eks.amazonaws.com/capacityType": "SPOT"},
    [],
    7910,
    29 * 2**30,
    0,
    0,
    5,
)


def test_platform_services_stay_off_spot_capacity_operator_pods_included():
    prometheus = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "Prometheus",
        "metadata": {"name": "p", "namespace": "mon"},
        "spec": {"resources": {"requests": {"memory": "2Gi"}}},
    }
    found = scheduling.check(_view(Obj(prometheus, "r"), pools=(CPU_POOL, SPOT_POOL)))
    assert [(f.object, f.message) for f in found] == [
        (
            "Prometheus mon/p",
            "may be placed on spot capacity (spot): an interruption takes this platform service down",
        )
    ]
    prometheus["spec"]["nodeSelector"] = {"shipyard.io/pool": "workers"}
    assert scheduling.check(_view(Obj(prometheus, "r"), pools=(CPU_POOL, SPOT_POOL))) == []


def test_mlflow_behind_an_ingress_allows_its_origin():
    def mlflow(args):
        pod = {"containers": [{"name": "mlflow", "image": "x:1", "command": ["mlflow", "server", *args]}]}
        return Obj(_deployment("mlflow", "sys", pod), "m")

    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "mlflow", "namespace": "sys"},
        "spec": {"selector": {"app": "mlflow"}, "ports": [{"port": 80}]},
    }
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "i", "namespace": "sys"},
        "spec": {
            "rules": [
                {
                    "host": "mlflow.acme.example",
                    "http": {
                        "paths": [
                            {
                                "path": "/",
                                "pathType": "Prefix",
                                "backend": {"service": {"name": "mlflow", "port": {"number": 80}}},
                            }
                        ]
                    },
                }
            ]
        },
    }
    objs = [Obj(service, "m"), Obj(ingress, "m")]
    assert [
        f.object for f in origins.check(_view(mlflow(["--allowed-hosts", "mlflow.acme.example"]), *objs))
    ] == ["Deployment sys/mlflow"]
    allowed = mlflow(["--cors-allowed-origins", "https://mlflow.acme.example"])
    assert origins.check(_view(allowed, *objs)) == []
