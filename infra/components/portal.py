"""The portal (Streamlit) for managers and auditors: `streamlit run portal/Home.py` from the shipyard
image, the same command `shipyard up` runs (shipyard.platform.portal.portal_command), headless.

It reads MLflow as its own account (`shipyard-portal`, READ through MLflow's default permission): an
init container creates it with MLflow's admin login, so the password exists only in the portal's
Secret (as the registry does).

How people sign in follows `services.mlflow.auth`:
- basic: on the portal's own form, which checks their MLflow basic-auth login; Streamlit on 0.0.0.0.
- oidc (``PortalArgs.oidc``): an oauth2-proxy sidecar (the same image, provider and client as MLflow's)
  signs them in and passes `X-Forwarded-Email` upstream; Streamlit listens on the pod's loopback only
  with `SHIPYARD_PORTAL_IDENTITY=proxy-header`, so that header can come from the proxy alone, and the
  Service, NetworkPolicy and Ingress reach only the proxy's port. An approver's decision then goes to
  the registry as the portal's account on behalf of the person (`X-Shipyard-On-Behalf-Of`).

One replica: a Streamlit session (and the person's sign-in) lives in the pod that holds the browser's
websocket; a second replica behind the load balancer would need sticky sessions and still lose
sign-ins on every reconnect. The Deployment rolls with maxUnavailable 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from shipyard.audit.store import ENV_DATABASE_URL
from shipyard.identity.names import PORTAL
from shipyard.identity.portal import ENV_IDENTITY, PROXY_HEADER
from shipyard.platform.env import (
    ENV_GRAFANA_URL,
    ENV_HOME,
    ENV_LABEL_STUDIO_URL,
    ENV_MLFLOW,
    ENV_MLFLOW_TELEMETRY_OFF,
    ENV_PLATFORM,
    ENV_PROMETHEUS,
    ENV_PUSHGATEWAY,
    ENV_REGISTRY,
    ENV_SPEC,
)
from shipyard.platform.portal import PORTAL_HEALTH, PORTAL_PORT, portal_command
from shipyard.service_calls import mlflow_client_env
from shipyard.spec.labels import ANNOTATION_AUTH
from shipyard.spec.services import PortalSpec

from components.common import (
    PROXY_PORT,
    Component,
    child,
    http_probe,
    http_service,
    k8s_labels,
    mlflow_account,
    oauth2_proxy_container,
    secret_env,
)
from components.ingress import ALB, IngressSettings
from components.mlflow import OidcSettings
from components.registry import AUDIT_URL_KEY, account_init_container

PORT = PORTAL_PORT
LOOPBACK = "127.0.0.1"
# under OIDC Streamlit answers on loopback only, which the kubelet's httpGet (the pod IP) cannot reach
HEALTH_CHECK = (
    f"import urllib.request; urllib.request.urlopen('http://{LOOPBACK}:{PORT}{PORTAL_HEALTH}', timeout=4)"
)
APP_DIR = "/opt/shipyard/portal"  # where infra/images/shipyard/Dockerfile copies portal/
HOME = f"{APP_DIR}/Home.py"
DATA_DIR = "/data"  # an emptyDir: HOME (Streamlit's ~/.streamlit) and SHIPYARD_HOME
SPEC_DIR = "/etc/shipyard"
SPEC_FILE = f"{SPEC_DIR}/platform.yaml"
UID = 1000
MEMORY_LIMIT = "1Gi"
IN_CLUSTER = ".svc.cluster.local"
POSTGRES_PORT = 5432  # the audit database's (docs/platform-engineer.md: "Audit log in Postgres")


@dataclass(frozen=True)
class PortalArgs:
    platform: str
    environment: str  # aws | kubernetes (SHIPYARD_PLATFORM)
    namespace: str
    spec: PortalSpec
    image: pulumi.Input[str]  # the shipyard image (built by the stack or services.registry.image)
    spec_text: str  # the platform spec file, as the portal reads it (SHIPYARD_SPEC)
    mlflow_url: str  # in-cluster URL of MLflow's Service (basic auth)
    # the other services the portal reads, env variable -> URL (in-cluster where the service runs here)
    endpoints: dict[str, str] = field(default_factory=dict)
    monitoring_namespace: str | None = None  # Prometheus, Pushgateway, Grafana
    mlflow_secret: str = "mlflow"  # the Secret with MLflow's `admin-password` (basic auth)
    ingress: IngressSettings | None = None  # required when spec.url is set
    node_selector: dict[str, str] | None = None  # EKS: ON_DEMAND (never spot)
    tolerations: tuple[dict[str, str], ...] = ()  # the platform pool's taint (PLATFORM_TOLERATION)
    # services.registry.audit_database_secret: the Audit page reads the registry's Postgres log
    audit_database_secret: str | None = None
    # services.mlflow.auth oidc: people sign in through an oauth2-proxy sidecar with these settings
    oidc: OidcSettings | None = None


ENDPOINT_VARS = (ENV_REGISTRY, ENV_PROMETHEUS, ENV_PUSHGATEWAY, ENV_GRAFANA_URL, ENV_LABEL_STUDIO_URL)


def issuer_port(issuer_url: pulumi.Input[str]) -> int:
    """The port of the OIDC issuer (stack config ``shipyard:oidc.issuerUrl``, a plain string)."""
    if not isinstance(issuer_url, str):
        return 443  # only an https issuer is accepted by oauth2-proxy's discovery
    parsed = urlparse(issuer_url)
    return parsed.port or (80 if parsed.scheme == "http" else 443)


class Portal(Component):
    url: str

    def __init__(self, name: str, args: PortalArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:infra:Portal", name, opts)
        ns = args.namespace
        unknown = set(args.endpoints) - set(ENDPOINT_VARS)
        if unknown:
            raise ValueError(f"the portal reads no {sorted(unknown)}: only {ENDPOINT_VARS}")
        labels = k8s_labels(args.platform, "portal", **{"app.kubernetes.io/name": "portal"})
        selector = {"app.kubernetes.io/name": "portal"}
        meta = lambda n, **kw: {"name": n, "namespace": ns, "labels": labels, **kw}  # noqa: E731
        host = urlparse(args.spec.url).hostname if args.spec.url else None
        oidc = args.oidc is not None

        secret, account = mlflow_account(name, meta("portal"), PORTAL, self)
        secrets: list[pulumi.Resource] = [secret]
        if args.oidc is not None:
            cookie = random.RandomPassword(f"{name}-cookie", length=32, special=False, opts=child(self))
            secrets.append(
                k8s.core.v1.Secret(
                    f"{name}-oidc-secret",
                    metadata=meta("portal-oidc"),
                    type="Opaque",
                    string_data=pulumi.Output.secret(
                        {
                            "oidc-client-id": args.oidc.client_id,
                            "oidc-client-secret": args.oidc.client_secret,
                            "cookie-secret": cookie.result,
                        }
                    ),
                    opts=child(self),
                )
            )
        config = k8s.core.v1.ConfigMap(
            f"{name}-spec",
            metadata=meta("portal-spec"),
            data={"platform.yaml": args.spec_text},
            opts=child(self),
        )

        # what `shipyard up` gives the portal (shipyard.platform.portal.portal_env), with in-cluster URLs
        env: list[dict[str, object]] = [
            *account,
            {"name": ENV_PLATFORM, "value": args.environment},
            {"name": ENV_MLFLOW, "value": args.mlflow_url},
            *({"name": var, "value": url} for var, url in sorted(args.endpoints.items())),
            {"name": ENV_SPEC, "value": SPEC_FILE},
            {"name": ENV_HOME, "value": DATA_DIR},
            {"name": "HOME", "value": DATA_DIR},  # the image's home is not the pod's to write
            *({"name": k, "value": v} for k, v in sorted(mlflow_client_env().items())),
            {"name": "PYTHONUNBUFFERED", "value": "1"},
            {"name": ENV_MLFLOW_TELEMETRY_OFF, "value": "true"},
        ]
        if oidc:  # the person from the sidecar's X-Forwarded-Email (Streamlit on loopback: no one else)
            env.append({"name": ENV_IDENTITY, "value": PROXY_HEADER})
        if args.audit_database_secret:
            env.append(secret_env(ENV_DATABASE_URL, args.audit_database_secret, AUDIT_URL_KEY))
        security = {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": UID}

        def probe(delay: int) -> dict[str, object]:
            checks = http_probe(PORTAL_HEALTH, PORT, delay)
            if oidc:  # the kubelet probes the pod IP, which a loopback-only Streamlit does not answer
                del checks["httpGet"]
                checks["exec"] = {"command": ["python", "-c", HEALTH_CHECK]}
            return checks

        init = account_init_container(args.image, account, args.mlflow_url, args.mlflow_secret, security)
        container = {
            "name": "portal",
            "image": args.image,
            "command": portal_command("python", HOME, PORT, LOOPBACK if oidc else "0.0.0.0"),
            "workingDir": APP_DIR,
            "ports": [{"name": "http", "containerPort": PORT}],
            "env": env,
            "volumeMounts": [
                {"name": "data", "mountPath": DATA_DIR},
                {"name": "spec", "mountPath": SPEC_DIR, "readOnly": True},
            ],
            "readinessProbe": probe(10),
            "livenessProbe": probe(30),
            # measured: ~190 MiB with a session on the sign-in page; a portfolio page adds its data frames
            "resources": {
                "requests": {"cpu": "250m", "memory": "512Mi"},
                "limits": {"cpu": "1", "memory": MEMORY_LIMIT},
            },
            "securityContext": security,
        }
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=meta("portal"),
            spec={
                "replicas": 1,
                "selector": {"matchLabels": selector},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "nodeSelector": args.node_selector or {},
                        "tolerations": list(args.tolerations),
                        "automountServiceAccountToken": False,  # it calls no Kubernetes API
                        "securityContext": {"fsGroup": UID, "runAsNonRoot": True},
                        "initContainers": [init],
                        "containers": [container, *([self._proxy(args.oidc)] if args.oidc else [])],
                        "volumes": [
                            {"name": "data", "emptyDir": {"sizeLimit": "256Mi"}},
                            {"name": "spec", "configMap": {"name": "portal-spec"}},
                        ],
                    },
                },
            },
            opts=child(self, depends_on=[*secrets, config]),
        )
        served_port = PROXY_PORT if oidc else PORT  # under OIDC only the proxy's port is reachable
        http_service(f"{name}-svc", meta("portal"), selector, served_port, child(self))
        k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol",
            metadata=meta("portal"),
            spec={
                "podSelector": {"matchLabels": selector},
                "policyTypes": ["Ingress", "Egress"],
                "ingress": self._ingress_rules(ns, served_port, exposed=host is not None),
                "egress": self._egress_rules(ns, args),
            },
            opts=child(self),
        )
        if host:
            if args.ingress is None:
                raise ValueError("services.portal.url is set but the platform has no ingress settings")
            # the portal signs people in on its own form (MLflow basic auth behind it), or the OIDC proxy
            annotations = {**args.ingress.annotations, ANNOTATION_AUTH: "oidc" if oidc else "basic"}
            if f"{ALB}healthcheck-path" in annotations:  # the proxy's own /ping: the rest needs a login
                annotations[f"{ALB}healthcheck-path"] = "/ping" if oidc else PORTAL_HEALTH
            args.ingress.route(f"{name}-ingress", meta("portal", annotations=annotations), host, "portal",
                               child(self))  # fmt: skip
        self.service_url = f"http://portal.{ns}{IN_CLUSTER}"
        self.url = args.spec.url or self.service_url
        self.register_outputs({"url": self.url})

    @staticmethod
    def _proxy(oidc: OidcSettings) -> dict[str, object]:
        """The oauth2-proxy sidecar (as MLflow's, its own Secret): browsers only (no bearer tokens), and
        Streamlit's page is one websocket."""
        return oauth2_proxy_container(
            oidc.issuer_url, PORT, "portal-oidc", bearer_tokens=False, websockets=True
        )

    @staticmethod
    def _ingress_rules(ns: str, served_port: int, exposed: bool) -> list[dict[str, object]]:
        """With a url, the ingress controller's traffic: on EKS the ALB sends it straight to the pod IP
        from the VPC (no pod, no namespace to select), so the port is open as MLflow's is, and the
        portal's own sign-in (or the OIDC proxy) guards it. Without one, only the platform's namespace
        (and kubectl port-forward, which no NetworkPolicy sees). Under OIDC the port is the proxy's:
        Streamlit's own listens on loopback."""
        port = [{"port": served_port, "protocol": "TCP"}]
        if exposed:
            return [{"ports": port}]
        return [
            {
                "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}}}],
                "ports": port,
            }
        ]

    @staticmethod
    def _egress_rules(ns: str, args: PortalArgs) -> list[dict[str, object]]:
        """DNS; the platform's namespaces (MLflow, the registry, Label Studio; Prometheus, the
        Pushgateway, Grafana); and, for an endpoint the spec puts outside the cluster, its port: the
        OIDC issuer's too under OIDC. A NetworkPolicy cannot name a host, and the stack knows the
        issuer's name, not its addresses: its port is open to any address outside the pod network
        (as for the other outside endpoints), which still keeps every other port closed."""
        namespaces = sorted({ns, *([args.monitoring_namespace] if args.monitoring_namespace else [])})
        rules: list[dict[str, object]] = [
            {
                "to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
            },
            {
                "to": [
                    {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": n}}}
                    for n in namespaces
                ]
            },
        ]
        outside = set()
        for url in (args.mlflow_url, *args.endpoints.values()):
            parsed = urlparse(url)
            if not (parsed.hostname or "").endswith(IN_CLUSTER):
                outside.add(parsed.port or (443 if parsed.scheme == "https" else 80))
        if args.audit_database_secret:  # the database's host is in the Secret: Postgres's port, anywhere
            outside.add(POSTGRES_PORT)
        if args.oidc is not None:  # the sidecar fetches the issuer's discovery document and keys to start
            outside.add(issuer_port(args.oidc.issuer_url))
        if outside:
            rules.append(
                {
                    "to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                    "ports": [{"port": p, "protocol": "TCP"} for p in sorted(outside)],
                }
            )
        return rules
