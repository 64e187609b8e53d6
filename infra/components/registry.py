"""The registry service (`python -m shipyard.registry.server`): the only account that registers model
versions in MLflow, and the keeper of the append-only, hash-chained audit log.

The audit log is SQLite on a ReadWriteOnce volume by default: one replica with the Recreate strategy, as
only one pod can mount the volume and only one writer may append to the file (a rolling update would
start a second pod that either cannot mount the volume or forks the chain). With
`services.registry.audit_database_secret` it lives in Postgres instead: the URL comes from that existing
Secret's key `url` (secretKeyRef, never a plain value or a stack file), there is no volume, and a rolling
update is safe (appends take an advisory lock in the database, so two pods never fork the chain). An init
container creates the registry's MLflow account with MLflow's admin login (basic auth), so the password
exists only in the Secret.

When MLflow uses OIDC (`oidc_issuer_url`), the init container also creates every person of the spec as
an MLflow user (random passwords nobody is told: they sign in through the IdP) with their team's grants,
and an oauth2-proxy sidecar (Service port 4180) signs people in for the registry too: the server believes
its `X-Forwarded-Email` from the loopback peer only (`--trust-proxy-email`); service accounts and CI
still call port 80 with basic auth.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
from shipyard.audit.store import ENV_DATABASE_URL
from shipyard.identity.names import REGISTRY
from shipyard.platform.env import ENV_MLFLOW_ADMIN_PASSWORD, ENV_MLFLOW_TELEMETRY_OFF, ENV_REGISTRY_MLFLOW_URL
from shipyard.platform.env import ENV_MLFLOW_PASSWORD as ENV_PASSWORD
from shipyard.platform.env import ENV_MLFLOW_USERNAME as ENV_USERNAME
from shipyard.spec.services import RegistrySpec

from components.common import (
    PROXY_PORT,
    Component,
    child,
    container_resources,
    http_probe,
    http_service,
    k8s_labels,
    mlflow_account,
    oauth2_proxy_container,
    secret_env,
)

PORT = 8000
DATA_DIR = "/data"
SPEC_DIR = "/etc/shipyard"
SPEC_FILE = f"{SPEC_DIR}/platform.yaml"
UID = 1000
AUDIT_URL_KEY = "url"  # the key of services.registry.audit_database_secret that holds the postgresql:// URL
# The init container: MLflow's admin creates the registry's account (an existing one is left alone).
ENSURE_ACCOUNT = (
    "import os; from shipyard.identity.mlflow_users import AuthAdmin, Credentials; "
    f"AuthAdmin(os.environ['{ENV_REGISTRY_MLFLOW_URL}'], "
    f"Credentials('admin', os.environ['{ENV_MLFLOW_ADMIN_PASSWORD}']))"
    f".ensure_user(os.environ['{ENV_USERNAME}'], os.environ['{ENV_PASSWORD}'])"
)


def account_init_container(image: pulumi.Input[str], account: list[dict[str, object]], mlflow_url: str,
                           mlflow_secret: str, security: dict[str, object]) -> dict[str, object]:  # fmt: skip
    """The init container that creates a platform service's MLflow account with MLflow's admin login
    (the registry's and the portal's): an existing account is left alone."""
    return {
        "name": "mlflow-account",
        "image": image,
        "command": ["python", "-c", ENSURE_ACCOUNT],
        "env": [
            *account,
            {"name": ENV_REGISTRY_MLFLOW_URL, "value": mlflow_url},
            secret_env(ENV_MLFLOW_ADMIN_PASSWORD, mlflow_secret, "admin-password"),
        ],
        "resources": container_resources("100m", "256Mi", "500m"),
        "securityContext": security,
    }


# ... and, behind OIDC, every person of the mounted spec (shipyard.identity.mlflow_users)
ENSURE_PEOPLE = f"; from shipyard.identity.mlflow_users import main; main(['--spec', '{SPEC_FILE}'])"


@dataclass(frozen=True)
class RegistryArgs:
    platform: str
    namespace: str
    spec: RegistrySpec
    spec_text: str  # the platform spec file, as the registry reads it with --spec
    mlflow_url: str  # in-cluster URL of MLflow's Service
    image: pulumi.Input[str] | None = None  # the shipyard image (built by the stack, or spec.image)
    mlflow_secret: str = "mlflow"  # the Secret with MLflow's `admin-password` (basic auth)
    client_namespaces: tuple[str, ...] = ()  # who may call it: the platform's and the teams' namespaces
    node_selector: dict[str, str] | None = None  # EKS: ON_DEMAND (never spot)
    tolerations: tuple[dict[str, str], ...] = ()  # the platform pool's taint (PLATFORM_TOLERATION)
    # MLflow uses OIDC: the IdP of its oauth2-proxy (client and cookie secrets from mlflow_secret)
    oidc_issuer_url: pulumi.Input[str] | None = None
    protect: bool = True  # the audit log's volume (dev stacks: False)


class Registry(Component):
    url: str

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:infra:Registry", name, opts)
        ns = args.namespace
        labels = k8s_labels(args.platform, "registry", **{"app.kubernetes.io/name": "registry"})
        selector = {"app.kubernetes.io/name": "registry"}
        meta = lambda n, **kw: {"name": n, "namespace": ns, "labels": labels, **kw}  # noqa: E731

        secret, account = mlflow_account(name, meta("registry"), REGISTRY, self)
        config = k8s.core.v1.ConfigMap(
            f"{name}-spec",
            metadata=meta("registry-spec"),
            data={"platform.yaml": args.spec_text},
            opts=child(self),
        )
        audit_secret = args.spec.audit_database_secret
        claims = []
        if audit_secret is None:
            # The audit log: SQLite on a ReadWriteOnce volume (one pod, one writer: see the Recreate strategy)
            claims.append(
                k8s.core.v1.PersistentVolumeClaim(
                    f"{name}-data",
                    metadata=meta("registry-data"),
                    spec={
                        "accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": args.spec.storage}},
                    },
                    opts=child(self, protect=args.protect),
                )
            )

        env: list[dict[str, object]] = [
            *account,
            {
                "name": "HOME",
                "value": DATA_DIR,
            },  # MLflow's client caches under ~; the image's root is not ours
            {"name": "PYTHONUNBUFFERED", "value": "1"},
            {"name": ENV_MLFLOW_TELEMETRY_OFF, "value": "true"},
        ]
        if audit_secret is not None:  # the audit log in Postgres: its URL (with a password) from the Secret
            env.append(secret_env(ENV_DATABASE_URL, audit_secret, AUDIT_URL_KEY))
        command = [
            "python", "-m", "shipyard.registry.server",
            "--data-dir", DATA_DIR,
            "--spec", SPEC_FILE,
            "--host", "0.0.0.0",
            "--port", str(PORT),
            "--mlflow", args.mlflow_url,
            # GitHub/GitLab runs: the registry cannot yet check their provenance as it checks the
            # embedded runner's (registry/provenance.py); it accepts them, and each version's evidence
            # says "unverified"
            "--unverified-hosted-ci",
        ]  # fmt: skip
        oidc = args.oidc_issuer_url is not None
        if oidc:
            command.append("--trust-proxy-email")  # the sidecar's X-Forwarded-Email, from loopback only
        security = {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "runAsUser": UID}
        probe = lambda delay: http_probe("/health", PORT, delay)  # noqa: E731
        image = args.image or args.spec.image
        if image is None:
            raise ValueError(
                "the registry needs the shipyard image: build it (images.py) or set it in the spec"
            )
        init = account_init_container(image, account, args.mlflow_url, args.mlflow_secret, security)
        sidecars = []
        if oidc:  # people sign in through the IdP: their MLflow users come from the spec
            sidecars.append(oauth2_proxy_container(args.oidc_issuer_url, PORT, args.mlflow_secret))
            init["command"] = ["python", "-c", ENSURE_ACCOUNT + ENSURE_PEOPLE]
            init["volumeMounts"] = [{"name": "spec", "mountPath": SPEC_DIR, "readOnly": True}]
        container = {
            "name": "registry",
            "image": image,
            "command": command,
            "ports": [{"name": "http", "containerPort": PORT}],
            "env": env,
            "volumeMounts": [
                {"name": "data", "mountPath": DATA_DIR},
                {"name": "spec", "mountPath": SPEC_DIR, "readOnly": True},
            ],
            # mlflow and scikit-learn are imported at start (seconds on a busy node): a late first probe
            "readinessProbe": probe(15),
            "livenessProbe": probe(60),
            "resources": container_resources("250m", "1Gi", "1"),
            "securityContext": security,
        }
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=meta("registry"),
            spec={
                "replicas": 1,
                "selector": {"matchLabels": selector},
                # SQLite: Recreate, never RollingUpdate: the old pod releases the ReadWriteOnce volume (and
                # the SQLite audit chain) before the new one starts; two writers would fork the chain.
                # Postgres serialises appends itself: a rolling update keeps the service up
                "strategy": {"type": "Recreate"} if audit_secret is None else {"type": "RollingUpdate"},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "nodeSelector": args.node_selector or {},
                        "tolerations": list(args.tolerations),
                        # the volume is writable by the non-root user
                        "securityContext": {"fsGroup": UID, "runAsNonRoot": True},
                        "initContainers": [init],
                        "containers": [container, *sidecars],
                        "volumes": [
                            # SQLite: the audit log's volume; Postgres: only MLflow's client caches
                            {"name": "data", "persistentVolumeClaim": {"claimName": "registry-data"}}
                            if audit_secret is None
                            else {"name": "data", "emptyDir": {}},
                            {"name": "spec", "configMap": {"name": "registry-spec"}},
                        ],
                    },
                },
            },
            opts=child(self, depends_on=[secret, config, *claims]),
        )
        # OIDC: port 4180 is the proxy (people with an IdP token); port 80 the server (basic auth)
        proxy = [{"name": "oidc", "port": PROXY_PORT, "targetPort": PROXY_PORT}] if oidc else []
        http_service(f"{name}-svc", meta("registry"), selector, PORT, child(self), extra_ports=proxy)
        # Callers sign in with their MLflow login (basic auth) or through the proxy; only the platform's own
        # namespaces and the teams' (CI and training jobs) reach the ports at all.
        k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol",
            metadata=meta("registry"),
            spec={
                "podSelector": {"matchLabels": selector},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [
                            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": n}}}
                            for n in sorted({ns, *args.client_namespaces})
                        ],
                        "ports": [
                            {"port": p, "protocol": "TCP"} for p in (PORT, *([PROXY_PORT] if oidc else []))
                        ],
                    }
                ],
            },
            opts=child(self),
        )
        self.url = f"http://registry.{ns}.svc.cluster.local"
        self.register_outputs({"url": self.url})
