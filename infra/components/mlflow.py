"""MLflow tracking server: >= 2 replicas behind authentication (basic-auth app or an OIDC proxy sidecar).

Metadata lives in Postgres (URI from a Secret), artifacts in S3 proxied by the server, so clients need
only the MLflow URL and their login. Pods reach S3 with IRSA on AWS, with keys from a Secret on-prem.

With OIDC, MLflow still runs its basic-auth app (users and permissions as with basic auth), with
Shipyard's authorization function (`shipyard.identity.proxy_auth`): a request from the oauth2-proxy
sidecar (loopback peer) is the person its `X-Forwarded-Email` names; any other caller (service accounts
through the in-cluster port) signs in with basic auth. So it runs from the shipyard image, which has
the function and the locked mlflow; its Postgres driver is psycopg 3 (`postgresql+psycopg://`).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from shipyard.identity.proxy_auth import AUTHORIZATION_FUNCTION
from shipyard.platform.env import (
    ENV_MLFLOW_AUTH_ADMIN_PASSWORD,
    ENV_MLFLOW_AUTH_CONFIG,
    ENV_MLFLOW_BACKEND_STORE,
    ENV_MLFLOW_FLASK_SECRET,
    ENV_MLFLOW_JOB_EXECUTION,
    ENV_MLFLOW_S3_ENDPOINT,
)
from shipyard.spec.labels import ANNOTATION_AUTH
from shipyard.spec.services import MlflowSpec

from components.common import (
    PROXY_PORT,
    Component,
    child,
    container_resources,
    http_service,
    k8s_labels,
    oauth2_proxy_container,
)
from components.ingress import ALB, IngressSettings

PORT = 5000
# One uvicorn worker per pod: more workers run under uvicorn's supervisor, which kills a worker that
# misses a 5 s health ping (it does while importing mlflow on a busy node) and restarts it forever.
# Scale with replicas instead.
WORKERS = 1
AUTH_INI = "/etc/mlflow-auth/basic_auth.ini"
BASIC_AUTH_FUNCTION = "mlflow.server.auth:authenticate_request_basic_auth"


def psycopg_uri(uri: str) -> str:
    """The shipyard image has psycopg 3, not psycopg2 (SQLAlchemy's default for postgresql://)."""
    if uri.startswith("postgresql://"):
        return "postgresql+psycopg://" + uri.removeprefix("postgresql://")
    return uri


@dataclass(frozen=True)
class OidcSettings:
    issuer_url: pulumi.Input[str]
    client_id: pulumi.Input[str]
    client_secret: pulumi.Input[str]


@dataclass(frozen=True)
class S3Keys:
    access_key_id: pulumi.Input[str]
    secret_access_key: pulumi.Input[str]


@dataclass(frozen=True)
class MlflowArgs:
    platform: str
    namespace: str
    spec: MlflowSpec
    backend_uri: pulumi.Input[str]  # secret
    artifacts_uri: str  # s3://bucket/prefix
    region: str | None = None
    s3_endpoint_url: str | None = None
    irsa_role_arn: pulumi.Input[str] | None = None  # AWS
    s3_keys: S3Keys | None = None  # S3-compatible storage without IRSA
    oidc: OidcSettings | None = None  # required when spec.auth == "oidc"
    shipyard_image: pulumi.Input[str] | None = None  # required when spec.auth == "oidc": MLflow runs from it
    client_namespaces: tuple[str, ...] = ()  # OIDC: who reaches MLflow's own port (basic auth) besides ns
    ingress: IngressSettings | None = None  # required when spec.url is set
    node_selector: dict[str, str] | None = None  # EKS: ON_DEMAND (never spot)
    tolerations: tuple[dict[str, str], ...] = ()  # the platform pool's taint (PLATFORM_TOLERATION)


class Mlflow(Component):
    url: str
    service_url: str  # in the cluster, through the Service, with basic auth (OIDC: MLflow's own port)
    admin_password: pulumi.Output[str]

    def __init__(self, name: str, args: MlflowArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:infra:Mlflow", name, opts)
        spec, ns = args.spec, args.namespace
        labels = k8s_labels(args.platform, "mlflow", **{"app.kubernetes.io/name": "mlflow"})
        selector = {"app.kubernetes.io/name": "mlflow"}
        meta = lambda n, **kw: {"name": n, "namespace": ns, "labels": labels, **kw}  # noqa: E731
        oidc = spec.auth == "oidc"
        if oidc and args.oidc is None:
            raise ValueError("services.mlflow.auth is 'oidc' but no OIDC settings were given")
        if oidc and not args.shipyard_image:
            raise ValueError("services.mlflow.auth is 'oidc' but no shipyard image was given")
        backend_uri = args.backend_uri
        if oidc:  # MLflow runs from the shipyard image
            backend_uri = pulumi.Output.from_input(args.backend_uri).apply(psycopg_uri)
        host = urlparse(spec.url).hostname if spec.url else None
        service_host = f"mlflow.{ns}.svc.cluster.local"

        # the basic-auth app in both modes: with OIDC its authorization function also believes the proxy
        admin = random.RandomPassword(f"{name}-admin", length=24, special=False, opts=child(self))
        self.admin_password = pulumi.Output.secret(admin.result)
        # basic auth refuses to start without a Flask secret key (session and CSRF signing)
        flask_key = random.RandomPassword(f"{name}-flask-key", length=48, special=False, opts=child(self))
        secret_data: dict[str, pulumi.Input[str]] = {
            "backend-uri": backend_uri,
            "admin-password": admin.result,
            "flask-secret-key": flask_key.result,
            "basic_auth.ini": pulumi.Output.format(
                "[mlflow]\ndefault_permission = READ\ndatabase_uri = {0}\nadmin_username = admin\n"
                "authorization_function = {1}\n",
                # configparser reads '%' as interpolation: percent-encoded passwords need '%%'
                pulumi.Output.from_input(backend_uri).apply(lambda uri: uri.replace("%", "%%")),
                AUTHORIZATION_FUNCTION if oidc else BASIC_AUTH_FUNCTION,
            ),
        }
        if oidc:
            assert args.oidc is not None
            cookie = random.RandomPassword(f"{name}-cookie", length=32, special=False, opts=child(self))
            secret_data |= {
                "oidc-client-id": args.oidc.client_id,
                "oidc-client-secret": args.oidc.client_secret,
                "cookie-secret": cookie.result,
            }
        if args.s3_keys:
            secret_data |= {
                "aws-access-key-id": args.s3_keys.access_key_id,
                "aws-secret-access-key": args.s3_keys.secret_access_key,
            }
        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=meta("mlflow"),
            type="Opaque",
            string_data=pulumi.Output.secret(secret_data),
            opts=child(self),
        )
        sa_annotations = {"eks.amazonaws.com/role-arn": args.irsa_role_arn} if args.irsa_role_arn else {}
        k8s.core.v1.ServiceAccount(
            f"{name}-sa", metadata=meta("mlflow", annotations=sa_annotations), opts=child(self)
        )

        def from_secret(var: str, key: str) -> dict[str, object]:
            return {"name": var, "valueFrom": {"secretKeyRef": {"name": "mlflow", "key": key}}}

        env: list[dict[str, object]] = [
            from_secret(ENV_MLFLOW_BACKEND_STORE, "backend-uri"),
            # MLflow 3's job runner (GenAI jobs Shipyard does not use) adds ~10 huey workers of ~160 MB:
            # measured with one uvicorn worker, ~2.3 GB in all, over the 2Gi limit below (OOM-killed)
            {"name": ENV_MLFLOW_JOB_EXECUTION, "value": "false"},
        ]
        if args.region:
            env += [
                {"name": "AWS_REGION", "value": args.region},
                {"name": "AWS_DEFAULT_REGION", "value": args.region},
            ]
        if args.s3_endpoint_url:
            env.append({"name": ENV_MLFLOW_S3_ENDPOINT, "value": args.s3_endpoint_url})
        if args.s3_keys:
            env += [
                from_secret("AWS_ACCESS_KEY_ID", "aws-access-key-id"),
                from_secret("AWS_SECRET_ACCESS_KEY", "aws-secret-access-key"),
            ]
        # Host headers carry a port when it is not the scheme's default (kubectl port-forward: localhost:N)
        names = [h for h in (host, service_host, f"mlflow.{ns}", "mlflow", "localhost", "127.0.0.1") if h]
        allowed_hosts = ",".join(n for h in names for n in (h, f"{h}:*"))
        # MLflow 3.17 refuses a state-changing request whose Origin is not localhost unless listed: the UI
        # through the ingress sends its own origin
        origin = f"{urlparse(spec.url).scheme}://{urlparse(spec.url).netloc}" if spec.url else None
        command = [
            "mlflow", "server",
            # with OIDC too: people come through the proxy (loopback), service accounts through the
            # in-cluster port with basic auth
            "--host", "0.0.0.0",
            "--port", str(PORT),
            "--workers", str(WORKERS),
            "--backend-store-uri", "$(MLFLOW_BACKEND_STORE_URI)",
            "--artifacts-destination", args.artifacts_uri,
            "--serve-artifacts",
            "--allowed-hosts", allowed_hosts,
            *(["--cors-allowed-origins", origin] if origin else []),
            "--app-name", "basic-auth",
        ]  # fmt: skip
        if oidc:
            # the proxy sends X-Forwarded-For: uvicorn must not replace its loopback address with it,
            # or the authorization function would not recognise the proxy (shipyard.identity.proxy_auth)
            command += ["--uvicorn-opts", "--no-proxy-headers"]
        env += [
            {"name": ENV_MLFLOW_AUTH_CONFIG, "value": AUTH_INI},
            from_secret(ENV_MLFLOW_AUTH_ADMIN_PASSWORD, "admin-password"),
            from_secret(ENV_MLFLOW_FLASK_SECRET, "flask-secret-key"),
        ]
        volumes: list[dict[str, object]] = [
            {
                "name": "auth",
                "secret": {
                    "secretName": "mlflow",
                    "items": [{"key": "basic_auth.ini", "path": "basic_auth.ini"}],
                },
            }
        ]
        mounts: list[dict[str, object]] = [
            {"name": "auth", "mountPath": "/etc/mlflow-auth", "readOnly": True}
        ]
        probe = lambda delay: {  # noqa: E731
            "httpGet": {"path": "/health", "port": PORT},
            "initialDelaySeconds": delay,
            "periodSeconds": 10,
            "timeoutSeconds": 5,
            "failureThreshold": 6,
        }
        image = args.shipyard_image if oidc else spec.image
        security = {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": 1000}
        # A new MLflow version refuses to serve an older schema: migrate it first (a no-op when current).
        # One new pod at a time (maxSurge 1) runs it; the old pods keep serving until it is Ready.
        migrate = {
            "name": "db-upgrade",
            "image": image,
            "command": ["mlflow", "db", "upgrade", "$(MLFLOW_BACKEND_STORE_URI)"],
            "env": [from_secret(ENV_MLFLOW_BACKEND_STORE, "backend-uri")],
            "resources": container_resources("250m", "512Mi", "1"),
            "securityContext": security,
        }
        containers: list[dict[str, object]] = [
            {
                "name": "mlflow",
                "image": image,
                "command": command,
                "ports": [{"name": "http", "containerPort": PORT}],
                "env": env,
                "volumeMounts": mounts,
                "readinessProbe": probe(10),
                "livenessProbe": probe(30),
                "resources": container_resources("500m", "2Gi", "2"),
                "securityContext": security,
            }
        ]
        if oidc:
            assert args.oidc is not None
            containers.append(oauth2_proxy_container(args.oidc.issuer_url, PORT, "mlflow"))
        served_port = PROXY_PORT if oidc else PORT  # what the Service's port 80 (and the Ingress) reach
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=meta("mlflow"),
            spec={
                "replicas": spec.replicas,
                "selector": {"matchLabels": selector},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "serviceAccountName": "mlflow",
                        "nodeSelector": args.node_selector or {},
                        "tolerations": list(args.tolerations),
                        "initContainers": [migrate],
                        "containers": containers,
                        "volumes": volumes,
                        "topologySpreadConstraints": [
                            {
                                "maxSkew": 1,
                                "topologyKey": "kubernetes.io/hostname",
                                "whenUnsatisfiable": "ScheduleAnyway",
                                "labelSelector": {"matchLabels": selector},
                            }
                        ],
                    },
                },
            },
            opts=child(self, depends_on=[secret]),
        )
        # OIDC: port 80 is the proxy (people, the Ingress); port 5000 MLflow itself (service accounts)
        direct = [{"name": "basic-auth", "port": PORT, "targetPort": PORT}] if oidc else []
        http_service(f"{name}-svc", meta("mlflow"), selector, served_port, child(self), extra_ports=direct)
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=meta("mlflow"),
            spec={"minAvailable": 1, "selector": {"matchLabels": selector}},
            opts=child(self),
        )
        # Only the authenticating port is open to all; with OIDC MLflow's own port (basic auth) only to
        # the platform's namespace and the teams' (CI and training jobs)
        rules: list[dict[str, object]] = [{"ports": [{"port": served_port, "protocol": "TCP"}]}]
        if oidc:
            rules.append(
                {
                    "from": [
                        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": n}}}
                        for n in sorted({ns, *args.client_namespaces})
                    ],
                    "ports": [{"port": PORT, "protocol": "TCP"}],
                }
            )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol",
            metadata=meta("mlflow"),
            spec={"podSelector": {"matchLabels": selector}, "policyTypes": ["Ingress"], "ingress": rules},
            opts=child(self),
        )
        if host:
            if args.ingress is None:
                raise ValueError("services.mlflow.url is set but the platform has no ingress settings")
            annotations = {**args.ingress.annotations, ANNOTATION_AUTH: spec.auth}
            if oidc and f"{ALB}healthcheck-path" in annotations:
                annotations[f"{ALB}healthcheck-path"] = "/ping"  # the proxy's own; /health needs a login
            args.ingress.route(f"{name}-ingress", meta("mlflow", annotations=annotations), host, "mlflow",
                               child(self))  # fmt: skip
        self.service_url = f"http://{service_host}:{PORT}" if oidc else f"http://{service_host}"
        self.url = spec.url or self.service_url
        self.register_outputs({"url": self.url, "auth": spec.auth, "adminPassword": self.admin_password})
