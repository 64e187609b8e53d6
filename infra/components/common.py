"""Names, tags and labels every component shares, and the pinned Helm charts."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from shipyard.spec.labels import (  # noqa: F401  (the label contract, re-exported for components)
    GPU_TAINT_KEY,
    LABEL_GPU_TYPE,
    LABEL_POOL,
    aws_tags,
    is_dev_stack,
    k8s_labels,
)

SYSTEM_NAMESPACE = "shipyard-system"
MONITORING_NAMESPACE = "shipyard-monitoring"
TEAM_SERVICE_ACCOUNT = "shipyard-runner"  # CI/training jobs of a team run as this service account


@dataclass(frozen=True)
class ChartPin:
    chart: str
    version: str
    repo: str


# Pinned chart versions: bump them here (one place), then `pulumi preview` shows the upgrade.
DEVICE_PLUGIN_CHART = ChartPin("nvidia-device-plugin", "0.17.1", "https://nvidia.github.io/k8s-device-plugin")
DCGM_EXPORTER_CHART = ChartPin("dcgm-exporter", "4.1.1", "https://nvidia.github.io/dcgm-exporter/helm-charts")
CLUSTER_AUTOSCALER_CHART = ChartPin("cluster-autoscaler", "9.59.0", "https://kubernetes.github.io/autoscaler")
LOAD_BALANCER_CONTROLLER_CHART = ChartPin(
    "aws-load-balancer-controller", "3.5.0", "https://aws.github.io/eks-charts"
)
PUSHGATEWAY_CHART = ChartPin(
    "prometheus-pushgateway", "3.0.0", "https://prometheus-community.github.io/helm-charts"
)
# CI runners (spec ci.runners): actions-runner-controller's charts are OCI artifacts on ghcr.io
ARC_CHARTS = "oci://ghcr.io/actions/actions-runner-controller-charts"
ARC_CONTROLLER_CHART = ChartPin("gha-runner-scale-set-controller", "0.14.2", ARC_CHARTS)
ARC_SCALE_SET_CHART = ChartPin("gha-runner-scale-set", "0.14.2", ARC_CHARTS)
GITLAB_RUNNER_CHART = ChartPin("gitlab-runner", "0.92.0", "https://charts.gitlab.io")
PROMETHEUS_STACK_REPO = "https://prometheus-community.github.io/helm-charts"
LABEL_STUDIO_REPO = "https://charts.heartex.com/"
OAUTH2_PROXY_IMAGE = "quay.io/oauth2-proxy/oauth2-proxy:v7.8.1"
PROXY_PORT = 4180  # oauth2-proxy's port in a pod whose server it signs people in to


class Component(pulumi.ComponentResource):
    """A component whose children wait for what the component was told to wait for.

    Pulumi does not pass a component's ``depends_on`` to its children, so without this the
    Deployment inside a component given ``depends_on=[namespaces]`` may be created first.
    """

    def __init__(self, t: str, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(t, name, None, opts)
        after = opts.depends_on if opts else None
        inherited = list(getattr(opts.parent, "after", ())) if opts and opts.parent else []
        own = list(after) if isinstance(after, list | tuple) else [after] if after else []
        self.after: list[pulumi.Resource] = [*inherited, *own]


def child(parent: pulumi.Resource, **kwargs: object) -> pulumi.ResourceOptions:
    """Options for a resource created inside a component: it also waits for the component's own
    dependencies (see :class:`Component`)."""
    own = kwargs.pop("depends_on", None) or []
    after = [*getattr(parent, "after", []), *(own if isinstance(own, list) else [own])]
    return pulumi.ResourceOptions(parent=parent, depends_on=after or None, **kwargs)  # type: ignore[arg-type]


def container_resources(cpu: str, memory: str, cpu_limit: str | None = None) -> dict[str, dict[str, str]]:
    """Requests and limits (the policy pack requires both on every container)."""
    return {
        "requests": {"cpu": cpu, "memory": memory},
        "limits": {"cpu": cpu_limit or cpu, "memory": memory},
    }


# Platform services stay off spot capacity (EKS labels every managed node with its capacity type)
ON_DEMAND = {"eks.amazonaws.com/capacityType": "ON_DEMAND"}
# A pool tainted with it (the AWS example's `system`) runs only what tolerates it: the platform's own
# services and EKS's addons (coredns and the EBS CSI controller tolerate it), never teams' jobs
PLATFORM_TAINT_KEY = "CriticalAddonsOnly"
PLATFORM_TOLERATION = {"key": PLATFORM_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}
GPU_TOLERATION = {"key": GPU_TAINT_KEY, "operator": "Exists", "effect": "NoSchedule"}
GPU_NODE_AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": LABEL_GPU_TYPE, "operator": "Exists"}]}]
        }
    }
}


def http_service(resource: str, metadata: dict, selector: dict, target_port: int,
                 opts: pulumi.ResourceOptions,
                 extra_ports: list[dict[str, object]] | None = None) -> k8s.core.v1.Service:  # fmt: skip
    """The ClusterIP Service in front of one workload: port 80 (``http``) to its ``target_port``, and
    ``extra_ports`` (named ports, as Kubernetes writes them) after it."""
    return k8s.core.v1.Service(
        resource,
        metadata=metadata,
        spec={
            "type": "ClusterIP",
            "selector": selector,
            "ports": [{"name": "http", "port": 80, "targetPort": target_port}, *(extra_ports or [])],
        },
        opts=opts,
    )


def secret_env(var: str, secret: str, key: str) -> dict[str, object]:
    """An env var read from a Secret's key (never a literal value)."""
    return {"name": var, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def mlflow_account(
    resource: str, metadata: dict, username: str, parent: pulumi.Resource
) -> tuple[k8s.core.v1.Secret, list[dict[str, object]]]:
    """A platform service's own MLflow account: a generated password in a Secret (keys
    ``mlflow-username``/``mlflow-password``), and the env that reads it (MLflow's client variables)."""
    from shipyard.platform.env import ENV_MLFLOW_PASSWORD as ENV_PASSWORD
    from shipyard.platform.env import ENV_MLFLOW_USERNAME as ENV_USERNAME

    password = random.RandomPassword(f"{resource}-mlflow-password", length=32, special=False,
                                     opts=child(parent))  # fmt: skip
    secret = k8s.core.v1.Secret(
        f"{resource}-secret",
        metadata=metadata,
        type="Opaque",
        string_data=pulumi.Output.secret({"mlflow-username": username, "mlflow-password": password.result}),
        opts=child(parent),
    )
    name = metadata["name"]
    return secret, [
        secret_env(ENV_USERNAME, name, "mlflow-username"),
        secret_env(ENV_PASSWORD, name, "mlflow-password"),
    ]


def http_probe(path: str, port: int, delay: int) -> dict[str, object]:
    """A readiness or liveness probe on an HTTP path (a minute of failures before it counts)."""
    return {
        "httpGet": {"path": path, "port": port},
        "initialDelaySeconds": delay,
        "periodSeconds": 10,
        "timeoutSeconds": 5,
        "failureThreshold": 6,
    }


def oauth2_proxy_container(
    issuer_url: pulumi.Input[str],
    upstream_port: int,
    secret: str,
    bearer_tokens: bool = True,
    websockets: bool = False,
) -> dict[str, object]:
    """The oauth2-proxy sidecar in front of a server in the same pod (upstream on the pod's loopback).
    It signs people in through the IdP (a session cookie, or an IdP token sent as a bearer token) and
    passes their email upstream as ``X-Forwarded-Email``, replacing one the client sent; the server
    believes that header from a loopback peer only (``shipyard.identity.proxy_auth``). The client id,
    its secret and the cookie secret come from ``secret`` (keys ``oidc-client-id``,
    ``oidc-client-secret``, ``cookie-secret``). ``bearer_tokens``: IdP tokens from the CLI and scripts
    are taken too (a browser-only server, the portal, says no); ``websockets``: proxied (Streamlit)."""
    return {
        "name": "oauth2-proxy",
        "image": OAUTH2_PROXY_IMAGE,
        "args": [
            "--provider=oidc",
            pulumi.Output.concat("--oidc-issuer-url=", issuer_url),
            f"--http-address=0.0.0.0:{PROXY_PORT}",
            f"--upstream=http://127.0.0.1:{upstream_port}",
            "--email-domain=*",
            "--skip-provider-button=true",
            "--reverse-proxy=true",
            "--pass-user-headers=true",  # X-Forwarded-Email: the person, by the IdP's email claim
            "--skip-auth-strip-headers=true",  # ... never one the client sent
            "--pass-basic-auth=false",
            *(["--skip-jwt-bearer-tokens=true"] if bearer_tokens else []),  # a person's IdP token
            *(["--proxy-websockets=true"] if websockets else []),
        ],
        "env": [
            secret_env("OAUTH2_PROXY_CLIENT_ID", secret, "oidc-client-id"),
            secret_env("OAUTH2_PROXY_CLIENT_SECRET", secret, "oidc-client-secret"),
            secret_env("OAUTH2_PROXY_COOKIE_SECRET", secret, "cookie-secret"),
        ],
        "ports": [{"name": "proxy", "containerPort": PROXY_PORT}],
        "readinessProbe": {"httpGet": {"path": "/ping", "port": PROXY_PORT}, "periodSeconds": 10},
        "livenessProbe": {"httpGet": {"path": "/ping", "port": PROXY_PORT}, "periodSeconds": 20},
        "resources": container_resources("100m", "128Mi", "500m"),
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": 2000},
    }
