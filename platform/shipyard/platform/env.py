"""The environment contract: every environment variable name Shipyard reads or sets, defined once.

Nothing else in ``platform/shipyard``, ``portal/`` or ``infra/`` spells one of these names
(tests/architecture/test_platform_boundary.py holds the code to it). This module imports nothing:
every layer, the spec loader included, may read it.
"""

# --- finding the platform (shipyard.platform.resolver) -----------------------------------------------
ENV_SPEC = "SHIPYARD_SPEC"  # the platform spec file
ENV_HOME = "SHIPYARD_HOME"  # the embedded platform's data dir

# --- what a job (and the portal) gets: where each service is (shipyard.platform.endpoints) ---------
ENV_PLATFORM = "SHIPYARD_PLATFORM"  # local | aws | kubernetes
ENV_MLFLOW = "MLFLOW_TRACKING_URI"
ENV_MLFLOW_USERNAME = "MLFLOW_TRACKING_USERNAME"  # the names MLflow's own clients read
ENV_MLFLOW_PASSWORD = "MLFLOW_TRACKING_PASSWORD"
ENV_DVC_REMOTE = "SHIPYARD_DVC_REMOTE"  # the project's remote URL (directory path or s3://bucket/prefix)
ENV_DVC_ENDPOINT = "SHIPYARD_DVC_ENDPOINT_URL"  # S3-compatible endpoint, when not AWS itself
ENV_LABEL_STUDIO_URL = "LABEL_STUDIO_URL"  # the names label-studio-sdk reads
ENV_LABEL_STUDIO_KEY = "LABEL_STUDIO_API_KEY"
ENV_PUSHGATEWAY = "SHIPYARD_PUSHGATEWAY_URL"
ENV_PROMETHEUS = "SHIPYARD_PROMETHEUS_URL"
ENV_GRAFANA_URL = "GRAFANA_URL"
ENV_GRAFANA_TOKEN = "GRAFANA_TOKEN"
ENV_PORTAL = "SHIPYARD_PORTAL_URL"
ENV_PACKAGE_INDEX = "SHIPYARD_INDEX_URL"  # the simple index serving the shipyard client (and only it)
ENV_INSTANCE_TYPE = "SHIPYARD_INSTANCE_TYPE"  # what the job runs on, for costs ("local" on a laptop)
ENV_GPU_COUNT = "SHIPYARD_GPU_COUNT"
ENV_CI_RUN_ID = "SHIPYARD_CI_RUN_ID"  # the MLflow run id of the CI run a job belongs to
ENV_CI_PROVIDER = "SHIPYARD_CI_PROVIDER"  # shipyard | github | gitlab
ENV_REGISTRY = "SHIPYARD_REGISTRY_URL"  # the registry service: the only path into the model registry

# --- the portal process (shipyard.platform.portal) --------------------------------------------------
ENV_DVC_ROOT = "SHIPYARD_DVC_REMOTE_ROOT"
ENV_GIT_ROOT = "SHIPYARD_GIT_ROOT"
ENV_PREFIX = "SHIPYARD_PORTAL_PREFIX"  # only projects/models whose names start with it
ENV_TTL = "SHIPYARD_PORTAL_TTL"
ENV_PORTAL_IDENTITY = "SHIPYARD_PORTAL_IDENTITY"  # how the portal signs people in

# --- bounds on calls to the services (shipyard.service_calls) ---------------------------------------
ENV_SERVICE_TIMEOUT = "SHIPYARD_SERVICE_TIMEOUT"
ENV_SERVICE_RETRIES = "SHIPYARD_SERVICE_RETRIES"
# MLflow's own client reads these at each request; Shipyard sets them from the same bounds
ENV_MLFLOW_HTTP_TIMEOUT = "MLFLOW_HTTP_REQUEST_TIMEOUT"
ENV_MLFLOW_HTTP_RETRIES = "MLFLOW_HTTP_REQUEST_MAX_RETRIES"
ENV_MLFLOW_HTTP_BACKOFF = "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"
ENV_MLFLOW_HTTP_JITTER = "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER"

# --- other settings Shipyard reads ------------------------------------------------------------------
ENV_AUDIT_DATABASE_URL = "SHIPYARD_AUDIT_DATABASE_URL"  # postgresql://user:password@host:5432/db
ENV_OPENCOST = "SHIPYARD_OPENCOST_URL"
ENV_COST_EXPLORER = "SHIPYARD_COST_EXPLORER"  # "off" disables it on an aws platform
ENV_CI_USER = "SHIPYARD_CI_USER"  # another unprivileged account to run CI jobs as
ENV_CI_TIMEOUT = "SHIPYARD_CI_TIMEOUT"  # seconds one CI run may take (default 3600)
ENV_REPRODUCE_TIMEOUT = "SHIPYARD_REPRODUCE_TIMEOUT"  # seconds a reproduction's stages may take (1800)
ENV_TEMPLATE = "SHIPYARD_TEMPLATE"  # the project template to generate from
ENV_LABEL_STUDIO_VENV = "SHIPYARD_LABEL_STUDIO_VENV"  # a venv shared between data dirs (tests, CI)
ENV_PROMETHEUS_BIN = "SHIPYARD_PROMETHEUS_BIN"  # binaries outside PATH
ENV_PUSHGATEWAY_BIN = "SHIPYARD_PUSHGATEWAY_BIN"
ENV_PATH = "PATH"
# the registry service on a cluster: MLflow's URL and admin password (to create its own account)
ENV_REGISTRY_MLFLOW_URL = "SHIPYARD_MLFLOW_URL"
ENV_MLFLOW_ADMIN_PASSWORD = "MLFLOW_ADMIN_PASSWORD"

# --- what Shipyard sets for the servers it runs (MLflow, Label Studio) -------------------------------
ENV_MLFLOW_TELEMETRY_OFF = "MLFLOW_DISABLE_TELEMETRY"
ENV_MLFLOW_JOB_EXECUTION = "MLFLOW_SERVER_ENABLE_JOB_EXECUTION"
ENV_MLFLOW_AUTH_CONFIG = "MLFLOW_AUTH_CONFIG_PATH"
ENV_MLFLOW_AUTH_ADMIN_PASSWORD = "MLFLOW_AUTH_ADMIN_PASSWORD"
ENV_MLFLOW_FLASK_SECRET = "MLFLOW_FLASK_SERVER_SECRET_KEY"
ENV_MLFLOW_BACKEND_STORE = "MLFLOW_BACKEND_STORE_URI"
ENV_MLFLOW_S3_ENDPOINT = "MLFLOW_S3_ENDPOINT_URL"
ENV_LABEL_STUDIO_DATA_DIR = "LABEL_STUDIO_BASE_DATA_DIR"
ENV_LABEL_STUDIO_LEGACY_TOKEN = "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN"
ENV_LABEL_STUDIO_NO_SIGNUP = "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK"
ENV_LABEL_STUDIO_USERNAME = "LABEL_STUDIO_USERNAME"
ENV_LABEL_STUDIO_PASSWORD = "LABEL_STUDIO_PASSWORD"
ENV_LABEL_STUDIO_USER_TOKEN = "LABEL_STUDIO_USER_TOKEN"
