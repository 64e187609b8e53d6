"""Each infra component built alone under Pulumi mocks (the engine cannot run here; see harness.py)."""

from __future__ import annotations

import configparser
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHIPYARD_IMAGE = "registry.example/shipyard/shipyard:0.1.0@sha256:" + "5e" * 32  # component_cases.py


def test_every_component_case_ran(components):
    assert set(components) >= {
        "network",
        "cluster",
        "node_pool_gpu",
        "node_pool_spot",
        "database_prod",
        "database_dev",
        "bucket",
        "dvc_bucket_per_team",
        "dvc_prefix_per_team",
        "team_tenancy",
        "mlflow_basic",
        "mlflow_oidc",
        "registry",
        "registry_postgres",
        "registry_oidc",
        "portal",
        "portal_internal",
        "portal_postgres_audit",
        "portal_oidc",
        "label_studio",
        "monitoring",
        "gpu",
        "namespaces",
    }
    for name, graph in components.items():
        assert any(r.type.startswith("shipyard:infra:") for r in graph.resources), name


def test_network_spreads_three_tiers_over_the_zones(components):
    g = components["network"]
    subnets = [r.plain for r in g.of("aws:ec2/subnet:Subnet")]
    assert len(subnets) == 9  # public, nodes, db x 3 zones
    assert sorted({s["availabilityZone"] for s in subnets}) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    assert all(s["mapPublicIpOnLaunch"] is False for s in subnets)
    assert len({s["cidrBlock"] for s in subnets}) == 9
    nodes = [s for s in subnets if s["tags"]["shipyard:tier"] == "nodes"]
    assert all(s["tags"]["kubernetes.io/role/internal-elb"] == "1" for s in nodes)
    assert len(g.exports["dbSubnets"]) == 3


def test_cluster_kubeconfig_is_secret_and_oidc_ready(components):
    g = components["cluster"]
    assert "kubeconfig" in g.secret_exports
    assert "aws" in g.exports["kubeconfig"] and "get-token" in g.exports["kubeconfig"]
    assert g.exports["oidcIssuer"] == "oidc.eks.us-east-1.amazonaws.com/id/ABC123"
    assert len(g.of("aws:iam/rolePolicyAttachment:RolePolicyAttachment")) == 4
    assert g.of("aws:kms/key:Key")[0].plain["enableKeyRotation"] is True


def test_cluster_addons_ebs_csi_with_irsa_and_default_encrypted_class(components):
    g = components["cluster_addons"]
    addons = {a.plain["addonName"]: a.plain for a in g.of("aws:eks/addon:Addon")}
    addon = addons["aws-ebs-csi-driver"]
    assert addon["serviceAccountRoleArn"].endswith("addons-ebs-csi")
    (role,) = g.of("aws:iam/role:Role")
    assert "system:serviceaccount:kube-system:ebs-csi-controller-sa" in role.plain["assumeRolePolicy"]
    (attach,) = g.of("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert attach.plain["policyArn"].endswith("AmazonEBSCSIDriverPolicy")
    (sc,) = g.of("kubernetes:storage.k8s.io/v1:StorageClass")
    assert sc.plain["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"] == "true"
    assert sc.plain["parameters"] == {"type": "gp3", "encrypted": "true"}


def test_gpu_pool_alone(components):
    (group,) = components["node_pool_gpu"].of("aws:eks/nodeGroup:NodeGroup")
    assert group.plain["amiType"] == "AL2023_x86_64_NVIDIA"
    assert group.plain["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    (spot,) = components["node_pool_spot"].of("aws:eks/nodeGroup:NodeGroup")
    assert spot.plain["capacityType"] == "SPOT"
    assert spot.plain.get("taints", []) == []


def test_database_protection_depends_on_stage(components):
    prod = components["database_prod"].of("aws:rds/instance:Instance")[0].plain
    dev = components["database_dev"].of("aws:rds/instance:Instance")[0].plain
    assert (
        prod["deletionProtection"] is True and prod["skipFinalSnapshot"] is False and prod["multiAz"] is True
    )
    assert dev["deletionProtection"] is False and dev["skipFinalSnapshot"] is True
    for g in (components["database_prod"], components["database_dev"]):
        assert {"uri", "password"} <= g.secret_exports and "host" not in g.secret_exports
        assert g.exports["uri"].startswith("postgresql://mlflow:generated-secret-")
    sg = components["database_prod"].of("aws:ec2/securityGroup:SecurityGroup")[0].plain
    assert sg["ingress"][0]["cidrBlocks"] == ["10.40.0.0/16"] and sg["ingress"][0]["fromPort"] == 5432


def test_bucket_alone_with_its_irsa_role(components):
    g = components["bucket"]
    assert g.counts()["aws:s3/bucket:Bucket"] == 1 and len(g.of("aws:iam/role:Role")) == 1
    assert g.exports["roleArn"].endswith("mlflow-artifacts-access")
    (policy,) = g.of("aws:iam/rolePolicy:RolePolicy")
    assert "s3:PutObject" in policy.plain["policy"] and "mlflow-artifacts" in policy.plain["policy"]


def test_dvc_layouts(components):
    per_team, shared = components["dvc_bucket_per_team"], components["dvc_prefix_per_team"]
    assert len(per_team.of("aws:s3/bucket:Bucket")) == 2 and len(shared.of("aws:s3/bucket:Bucket")) == 1
    assert per_team.exports["sharedRoot"] is None and shared.exports["sharedRoot"] == "s3://acme-ml-dvc"
    policies = {r.name: r.plain["policy"] for r in shared.of("aws:iam/rolePolicy:RolePolicy")}
    assert "arn:aws:s3:::acme-ml-dvc/fraud/*" in policies["dvc-fraud"]
    assert "search" not in policies["dvc-fraud"]


def test_team_tenancy_alone(components):
    g = components["team_tenancy"]
    ns = g.of("kubernetes:core/v1:Namespace")[0].plain
    assert ns["metadata"]["labels"]["shipyard.io/team"] == "fraud"
    hard = g.of("kubernetes:core/v1:ResourceQuota")[0].plain["spec"]["hard"]
    assert hard == {
        "requests.cpu": "64",
        "limits.cpu": "64",
        "requests.memory": "256Gi",
        "limits.memory": "256Gi",
        "requests.nvidia.com/gpu": "4",
    }
    sa = g.of("kubernetes:core/v1:ServiceAccount")[0].plain
    assert sa["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/fraud"}


def test_mlflow_alone_basic_and_oidc(components):
    basic, oidc = components["mlflow_basic"], components["mlflow_oidc"]
    assert "adminPassword" in basic.secret_exports
    ini = basic.of("kubernetes:core/v1:Secret")[0].plain["stringData"]["basic_auth.ini"]
    parser = configparser.ConfigParser()  # how MLflow's basic-auth app reads it
    parser.read_string(ini)
    assert parser["mlflow"]["database_uri"] == "postgresql://mlflow:pw%40Secret1@db:5432/mlflow"
    assert parser["mlflow"]["admin_username"] == "admin" and "admin_password" not in parser["mlflow"]
    for g in (basic, oidc):
        dep = g.of("kubernetes:apps/v1:Deployment")[0].plain
        assert dep["spec"]["replicas"] == 3
        for c in dep["spec"]["template"]["spec"]["containers"]:
            assert c["readinessProbe"] and c["livenessProbe"] and c["resources"]["limits"]["memory"]
        ing = g.of("kubernetes:networking.k8s.io/v1:Ingress")[0].plain
        assert ing["spec"]["rules"][0]["host"] == "mlflow.acme.example" and ing["spec"]["tls"]
        cmd = dep["spec"]["template"]["spec"]["containers"][0]["command"]
        assert "mlflow.acme.example" in cmd[cmd.index("--allowed-hosts") + 1]
    basic_ing = basic.of("kubernetes:networking.k8s.io/v1:Ingress")[0].plain
    assert basic_ing["metadata"]["annotations"]["shipyard.io/auth"] == "basic"
    assert (
        len(oidc.of("kubernetes:apps/v1:Deployment")[0].plain["spec"]["template"]["spec"]["containers"]) == 2
    )
    # OIDC: MLflow's basic-auth app still (admin, Flask key) with Shipyard's authorization function, plus
    # the proxy's cookie secret; from the shipyard image, whose Postgres driver is psycopg 3
    assert oidc.counts()["random:index/randomPassword:RandomPassword"] == 3
    assert "adminPassword" in oidc.secret_exports
    stored = oidc.of("kubernetes:core/v1:Secret")[0].plain["stringData"]
    parser = configparser.ConfigParser()
    parser.read_string(stored["basic_auth.ini"])
    assert parser["mlflow"]["authorization_function"] == (
        "shipyard.identity.proxy_auth:authenticate_request_proxy_or_basic"
    )
    assert parser["mlflow"]["database_uri"] == "postgresql+psycopg://mlflow:pw%40Secret1@db:5432/mlflow"
    assert stored["backend-uri"] == "postgresql+psycopg://mlflow:pw%40Secret1@db:5432/mlflow"
    mlflow_c = oidc.of("kubernetes:apps/v1:Deployment")[0].plain["spec"]["template"]["spec"]["containers"][0]
    assert mlflow_c["image"] == SHIPYARD_IMAGE
    assert mlflow_c["command"][mlflow_c["command"].index("--app-name") + 1] == "basic-auth"
    basic_ini = configparser.ConfigParser()
    basic_ini.read_string(ini)
    default = "mlflow.server.auth:authenticate_request_basic_auth"
    assert basic_ini["mlflow"]["authorization_function"] == default


def test_registry_behind_oidc_has_its_proxy_and_provisions_the_specs_people(components):
    g = components["registry_oidc"]
    pod = g.one("kubernetes:apps/v1:Deployment", "registry-deployment").plain["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in pod["containers"]}
    assert set(containers) == {"registry", "oauth2-proxy"}
    assert "--trust-proxy-email" in containers["registry"]["command"]
    proxy = containers["oauth2-proxy"]
    assert "--upstream=http://127.0.0.1:8000" in proxy["args"]
    assert "--skip-jwt-bearer-tokens=true" in proxy["args"]
    assert "--skip-auth-strip-headers=true" in proxy["args"]  # a client-sent X-Forwarded-Email never passes
    assert "--oidc-issuer-url=https://sso.example" in proxy["args"]
    assert {e["valueFrom"]["secretKeyRef"]["name"] for e in proxy["env"]} == {"mlflow"}
    (init,) = pod["initContainers"]
    assert "shipyard.identity.mlflow_users import main" in init["command"][-1]
    assert init["volumeMounts"] == [{"name": "spec", "mountPath": "/etc/shipyard", "readOnly": True}]
    svc = g.one("kubernetes:core/v1:Service", "registry-svc").plain
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [(80, 8000), (4180, 4180)]
    netpol = g.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "registry-netpol").plain
    (rule,) = netpol["spec"]["ingress"]
    assert [p["port"] for p in rule["ports"]] == [8000, 4180] and len(rule["from"]) == 3
    # without OIDC: no proxy, no header trusted
    plain = components["registry"].one("kubernetes:apps/v1:Deployment", "registry-deployment").plain
    (only,) = plain["spec"]["template"]["spec"]["containers"]
    assert "--trust-proxy-email" not in only["command"]


def test_registry_alone_one_writer_on_its_volume(components):
    g = components["registry"]
    assert g.exports["url"] == "http://registry.shipyard-system.svc.cluster.local"
    dep = g.one("kubernetes:apps/v1:Deployment", "registry-deployment").plain
    # one SQLite audit chain on a ReadWriteOnce volume: never two pods, not even during an update
    assert dep["spec"]["replicas"] == 1 and dep["spec"]["strategy"] == {"type": "Recreate"}
    pod = dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert c["command"] == [
        "python", "-m", "shipyard.registry.server", "--data-dir", "/data",
        "--spec", "/etc/shipyard/platform.yaml", "--host", "0.0.0.0", "--port", "8000",
        "--mlflow", "http://mlflow.shipyard-system.svc.cluster.local", "--unverified-hosted-ci",
    ]  # fmt: skip
    assert c["image"] == SHIPYARD_IMAGE
    for probe in (c["readinessProbe"], c["livenessProbe"]):
        assert probe["httpGet"] == {"path": "/health", "port": 8000}
    assert c["resources"]["limits"]["memory"] and c["resources"]["requests"]["cpu"]
    for container in (*pod["initContainers"], c):
        assert container["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/data"]]["persistentVolumeClaim"]["claimName"] == "registry-data"
    assert volumes[mounts["/etc/shipyard"]]["configMap"]["name"] == "registry-spec"
    pvc = g.one("kubernetes:core/v1:PersistentVolumeClaim", "registry-data").plain
    assert pvc["metadata"]["name"] == "registry-data"
    assert pvc["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert pvc["spec"]["resources"]["requests"]["storage"] == "7Gi"
    cm = g.one("kubernetes:core/v1:ConfigMap", "registry-spec").plain
    assert "platform:" in cm["data"]["platform.yaml"]
    # the registry's MLflow credentials: generated, in the Secret, read through valueFrom
    assert g.counts()["random:index/randomPassword:RandomPassword"] == 1
    secret = g.one("kubernetes:core/v1:Secret", "registry-secret").plain
    assert secret["stringData"] == {
        "mlflow-username": "shipyard-registry",
        "mlflow-password": "generated-secret-registry-mlflow-password",
    }
    env = {e["name"]: e for e in c["env"]}
    for var in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        assert env[var]["valueFrom"]["secretKeyRef"]["name"] == "registry"
    svc = g.one("kubernetes:core/v1:Service", "registry-svc").plain
    assert svc["spec"]["type"] == "ClusterIP" and svc["spec"]["ports"][0]["targetPort"] == 8000
    netpol = g.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "registry-netpol").plain
    (rule,) = netpol["spec"]["ingress"]
    assert rule["ports"] == [{"port": 8000, "protocol": "TCP"}]
    assert [f["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for f in rule["from"]] == [
        "fraud",
        "search",
        "shipyard-system",
    ]


def test_registry_with_its_audit_log_in_postgres(components):
    g = components["registry_postgres"]
    dep = g.one("kubernetes:apps/v1:Deployment", "registry-deployment").plain
    pod = dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    env = {e["name"]: e for e in c["env"]}
    # the URL (with its password) only from the existing Secret: never a plain value in the stack
    assert env["SHIPYARD_AUDIT_DATABASE_URL"] == {
        "name": "SHIPYARD_AUDIT_DATABASE_URL",
        "valueFrom": {"secretKeyRef": {"name": "shipyard-audit-db", "key": "url"}},
    }
    assert not any("postgresql://" in json.dumps(r.plain) for r in g.resources)
    # no volume for the log: the data dir is scratch (MLflow's client caches); the database serialises
    # appends, so a rolling update cannot fork the chain
    assert not g.of("kubernetes:core/v1:PersistentVolumeClaim")
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/data"]] == {"name": "data", "emptyDir": {}}
    assert dep["spec"]["replicas"] == 1 and dep["spec"]["strategy"] == {"type": "RollingUpdate"}
    # the SQLite registry has no such variable: its log is the file on its volume
    sqlite = components["registry"].one("kubernetes:apps/v1:Deployment", "registry-deployment").plain
    (sqlite_c,) = sqlite["spec"]["template"]["spec"]["containers"]
    assert "SHIPYARD_AUDIT_DATABASE_URL" not in {e["name"] for e in sqlite_c["env"]}


def test_portal_alone_runs_up_s_command_with_its_account_from_a_secret(components):
    g = components["portal"]
    assert g.exports["url"] == "https://portal.acme.example"
    dep = g.one("kubernetes:apps/v1:Deployment", "portal-deployment").plain
    assert dep["spec"]["replicas"] == 1  # a Streamlit session lives in one pod (see the component)
    pod = dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    # the command `shipyard up` runs, from the image's copy of portal/, on every address
    assert c["command"] == [
        "python", "-m", "streamlit", "run", "/opt/shipyard/portal/Home.py",
        "--server.port", "8501", "--server.address", "0.0.0.0", "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--client.toolbarMode", "viewer",
    ]  # fmt: skip
    assert c["image"] == SHIPYARD_IMAGE and c["workingDir"] == "/opt/shipyard/portal"
    for probe in (c["readinessProbe"], c["livenessProbe"]):
        assert probe["httpGet"] == {"path": "/_stcore/health", "port": 8501}
    assert c["resources"]["limits"]["memory"] == "1Gi" and c["resources"]["requests"]["cpu"]
    for container in (*pod["initContainers"], c):
        assert container["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["resources"]["limits"]["memory"]
    # its MLflow account: generated, in its Secret, read through valueFrom (init container and server)
    assert g.counts()["random:index/randomPassword:RandomPassword"] == 1
    secret = g.one("kubernetes:core/v1:Secret", "portal-secret").plain
    assert secret["stringData"] == {
        "mlflow-username": "shipyard-portal",
        "mlflow-password": "generated-secret-portal-mlflow-password",
    }
    (init,) = pod["initContainers"]
    init_env = {e["name"]: e for e in init["env"]}
    assert init_env["MLFLOW_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "mlflow",
        "key": "admin-password",
    }
    env = {e["name"]: e for e in c["env"]}
    for var in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        assert env[var]["valueFrom"]["secretKeyRef"]["name"] == "portal" and "value" not in env[var]
        assert env[var] == init_env[var]
    literal = {name: e["value"] for name, e in env.items() if "value" in e}
    assert literal["MLFLOW_TRACKING_URI"] == "http://mlflow.shipyard-system.svc.cluster.local"
    assert literal["SHIPYARD_REGISTRY_URL"] == "http://registry.shipyard-system.svc.cluster.local"
    assert literal["SHIPYARD_SPEC"] == "/etc/shipyard/platform.yaml" and literal["SHIPYARD_PLATFORM"] == "aws"
    assert not any("generated-secret" in v for v in literal.values())
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/etc/shipyard"]]["configMap"]["name"] == "portal-spec"
    assert "emptyDir" in volumes[mounts[literal["HOME"]]]  # Streamlit writes under ~
    cm = g.one("kubernetes:core/v1:ConfigMap", "portal-spec").plain
    assert "platform:" in cm["data"]["platform.yaml"]
    svc = g.one("kubernetes:core/v1:Service", "portal-svc").plain
    assert svc["spec"]["type"] == "ClusterIP" and svc["spec"]["ports"][0]["targetPort"] == 8501
    # exposed like MLflow: the platform's ingress, TLS, the portal's host; the ALB checks Streamlit's health
    ing = g.one("kubernetes:networking.k8s.io/v1:Ingress", "portal-ingress").plain
    assert ing["spec"]["rules"][0]["host"] == "portal.acme.example" and ing["spec"]["tls"]
    assert ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == "portal"
    annotations = ing["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] == "/_stcore/health"
    assert annotations["shipyard.io/auth"] == "basic"
    netpol = g.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "portal-netpol").plain["spec"]
    assert netpol["policyTypes"] == ["Ingress", "Egress"]
    assert netpol["ingress"] == [{"ports": [{"port": 8501, "protocol": "TCP"}]}]  # the ALB: VPC addresses
    dns, platform, outside = netpol["egress"]
    assert {p["port"] for p in dns["ports"]} == {53}
    assert [t["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for t in platform["to"]] == [
        "shipyard-monitoring",
        "shipyard-system",
    ]
    assert outside["ports"] == [{"port": 9443, "protocol": "TCP"}]  # the spec's external Prometheus


def test_portal_without_a_url_has_no_ingress_and_only_the_platform_reaches_it(components):
    g = components["portal_internal"]
    assert g.exports["url"] == "http://portal.shipyard-system.svc.cluster.local"
    assert not g.of("kubernetes:networking.k8s.io/v1:Ingress")
    netpol = g.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "portal-netpol").plain["spec"]
    (rule,) = netpol["ingress"]
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "shipyard-system"}}}
    ]


def test_portal_reads_the_registrys_postgres_audit_log_from_its_secret(components):
    g = components["portal_postgres_audit"]
    dep = g.one("kubernetes:apps/v1:Deployment", "portal-deployment").plain
    (c,) = dep["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in c["env"]}
    assert env["SHIPYARD_AUDIT_DATABASE_URL"] == {
        "name": "SHIPYARD_AUDIT_DATABASE_URL",
        "valueFrom": {"secretKeyRef": {"name": "shipyard-audit-db", "key": "url"}},
    }
    egress = g.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "portal-netpol").plain["spec"]["egress"]
    assert {"port": 5432, "protocol": "TCP"} in egress[-1]["ports"]  # the database, outside the cluster
    plain = components["portal"].one("kubernetes:apps/v1:Deployment", "portal-deployment").plain
    (sqlite_c,) = plain["spec"]["template"]["spec"]["containers"]
    assert "SHIPYARD_AUDIT_DATABASE_URL" not in {e["name"] for e in sqlite_c["env"]}


def test_portal_under_oidc_signs_people_in_through_its_oauth2_proxy_sidecar(components):
    g = components["portal_oidc"]
    assert g.exports["url"] == "https://portal.acme.example"
    pod = g.one("kubernetes:apps/v1:Deployment", "portal-deployment").plain["spec"]["template"]["spec"]
    portal, proxy = pod["containers"]
    assert (portal["name"], proxy["name"]) == ("portal", "oauth2-proxy")
    # Streamlit on the pod's loopback only, told to take the person from the proxy's header
    command = portal["command"]
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
    assert command[command.index("--server.port") + 1] == "8501"
    env = {e["name"]: e for e in portal["env"]}
    assert env["SHIPYARD_PORTAL_IDENTITY"] == {"name": "SHIPYARD_PORTAL_IDENTITY", "value": "proxy-header"}
    for var in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):  # its own account, as under basic
        assert env[var]["valueFrom"]["secretKeyRef"]["name"] == "portal"
    # the kubelet cannot reach loopback: the probes run inside the container, on Streamlit's health
    for probe in (portal["readinessProbe"], portal["livenessProbe"]):
        assert "httpGet" not in probe
        assert probe["exec"]["command"][:2] == ["python", "-c"]
        assert "http://127.0.0.1:8501/_stcore/health" in probe["exec"]["command"][2]
    # the sidecar: MLflow's image and flags, the portal upstream, the person passed on
    args = proxy["args"]
    assert proxy["image"].startswith("quay.io/oauth2-proxy/oauth2-proxy:v7")
    flags = ("--provider=oidc", "--oidc-issuer-url=https://sso.example", "--http-address=0.0.0.0:4180",
             "--upstream=http://127.0.0.1:8501", "--pass-user-headers=true", "--skip-auth-strip-headers=true",
             "--reverse-proxy=true", "--proxy-websockets=true")  # fmt: skip
    for flag in flags:
        assert flag in args, flag
    assert not any(a.startswith("--skip-jwt-bearer-tokens") for a in args)  # browsers only
    proxy_env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in proxy["env"]}
    assert proxy_env == {
        "OAUTH2_PROXY_CLIENT_ID": {"name": "portal-oidc", "key": "oidc-client-id"},
        "OAUTH2_PROXY_CLIENT_SECRET": {"name": "portal-oidc", "key": "oidc-client-secret"},
        "OAUTH2_PROXY_COOKIE_SECRET": {"name": "portal-oidc", "key": "cookie-secret"},
    }
    assert proxy["readinessProbe"]["httpGet"] == {"path": "/ping", "port": 4180}
    assert proxy["securityContext"]["runAsNonRoot"] is True and proxy["resources"]["limits"]["memory"]
    oidc_secret = g.one("kubernetes:core/v1:Secret", "portal-oidc-secret").plain
    assert oidc_secret["stringData"] == {
        "oidc-client-id": "mlflow",
        "oidc-client-secret": "oidc-Secret1",
        "cookie-secret": "generated-secret-portal-cookie",
    }
    assert g.counts()["random:index/randomPassword:RandomPassword"] == 2  # MLflow account, cookie
    # only the proxy's port is reachable: Service, NetworkPolicy, Ingress (its health: the proxy's /ping)
    svc = g.one("kubernetes:core/v1:Service", "portal-svc").plain
    assert svc["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": 4180}]
    netpol = g.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "portal-netpol").plain["spec"]
    assert netpol["ingress"] == [{"ports": [{"port": 4180, "protocol": "TCP"}]}]
    ing = g.one("kubernetes:networking.k8s.io/v1:Ingress", "portal-ingress").plain
    assert ing["metadata"]["annotations"]["shipyard.io/auth"] == "oidc"
    assert ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"] == "portal"
    # basic auth: unchanged (one container on 0.0.0.0, no identity mode, Streamlit's port)
    basic = components["portal"].one("kubernetes:apps/v1:Deployment", "portal-deployment").plain
    (only,) = basic["spec"]["template"]["spec"]["containers"]
    assert "SHIPYARD_PORTAL_IDENTITY" not in {e["name"] for e in only["env"]}


def test_label_studio_monitoring_gpu_alone(components):
    (ls,) = components["label_studio"].of("kubernetes:helm.sh/v3:Release")
    assert ls.plain["values"]["app"]["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/ls"
    }
    mon = components["monitoring"]
    assert "grafanaAdminPassword" in mon.secret_exports
    assert {r.plain["chart"] for r in mon.of("kubernetes:helm.sh/v3:Release")} == {
        "kube-prometheus-stack",
        "prometheus-pushgateway",
    }
    boards = {m.plain["metadata"]["name"]: m.plain for m in mon.of("kubernetes:core/v1:ConfigMap")}
    folders = {n: b["metadata"]["annotations"]["grafana_folder"] for n, b in boards.items()}
    assert folders == {
        "shipyard-dashboards": "Shipyard",
        "shipyard-dashboards-fraud": "fraud",
        "shipyard-dashboards-search": "search",
    }
    fraud = json.loads(boards["shipyard-dashboards-fraud"]["data"]["shipyard-drift-fraud.json"])
    assert all('team="fraud"' in p["targets"][0]["expr"] for p in fraud["panels"])
    stack = next(
        r for r in mon.of("kubernetes:helm.sh/v3:Release") if r.plain["chart"] == "kube-prometheus-stack"
    )
    sidecar = stack.plain["values"]["grafana"]["sidecar"]["dashboards"]
    assert (
        sidecar["folderAnnotation"] == "grafana_folder" and sidecar["provider"]["foldersFromFilesStructure"]
    )
    (rule,) = mon.of("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    expr = rule.plain["spec"]["groups"][0]["rules"][0]["expr"]
    assert 'source!="held_out"}' in expr  # production's drift, not CI's held-out check
    assert {r.plain["chart"] for r in components["gpu"].of("kubernetes:helm.sh/v3:Release")} == {
        "nvidia-device-plugin",
        "dcgm-exporter",
    }
    assert components["namespaces"].exports == {
        "system": "shipyard-system",
        "monitoring": "shipyard-monitoring",
    }


def test_the_cluster_alerts_with_the_embedded_prometheus_rule_file(components, tmp_path):
    """One rule, built by shipyard.alerts: the PrometheusRule infra deploys holds exactly the rules of
    the file the embedded Prometheus loads for the same spec (one per risk tier, each tier's limit)."""
    import yaml
    from shipyard.local.services.prometheus import rule_file
    from shipyard.spec import load_spec

    aws = load_spec(REPO / "examples/platform.aws.yaml")  # what component_cases.monitoring() passes
    (rule,) = components["monitoring"].of("kubernetes:monitoring.coreos.com/v1:PrometheusRule")
    deployed = rule.plain["spec"]["groups"]
    embedded = yaml.safe_load(rule_file(aws))["groups"]
    assert [g["name"] for g in deployed] == [g["name"] for g in embedded]
    assert [g["rules"] for g in deployed] == [g["rules"] for g in embedded]
    limits = {r["labels"]["risk_tier"]: r["expr"].rpartition("> ")[2] for r in deployed[0]["rules"]}
    assert limits == {tier: str(t.max_drift_share) for tier, t in aws.governance.risk_tiers.items()}
