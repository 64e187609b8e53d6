"""MLflow tag and alias names: the contract between template CI, the runner, costs and the portal.

MLflow is Shipyard's system of record. A *project* is an MLflow experiment carrying the
``EXPERIMENT_*`` tags. Every CI pipeline execution is a run in that experiment with
``RUN_KIND=ci``; every training run has ``RUN_KIND=train``. Model versions carry the lineage
tags so an auditor can walk data version -> code commit -> run -> model version.
Define names here only; everything else imports them. docs/mlflow-tags.md documents them.
"""

# --- experiment (= project) tags ---
PROJECT = "shipyard.project"
TEAM = "shipyard.team"
RISK_TIER = "shipyard.risk_tier"
RISK_TIER_HISTORY = "shipyard.risk_tier.history"  # tier changes before the registry kept them (read-only)
TEMPLATE_URL = "shipyard.template.url"  # the template repository the project was generated from
TEMPLATE_VERSION = "shipyard.template.version"  # the template release the project is on
OWNER = "shipyard.owner"
REPO = "shipyard.repo"  # where the code lives (the embedded git remote path, or a URL)
LABELING = "shipyard.labeling"  # "true" when the project labels with Label Studio
LABEL_STUDIO_PROJECT = "shipyard.label_studio.project_id"  # the project's Label Studio project id

# --- run tags (CI and training) ---
RUN_KIND = "shipyard.run_kind"  # one of RUN_KINDS
RUN_KIND_CI = "ci"
RUN_KIND_TRAIN = "train"
RUN_KIND_SCORE = "score"  # a batch scored with a registered model (`make predict`)
RUN_KINDS = (RUN_KIND_CI, RUN_KIND_TRAIN, RUN_KIND_SCORE)

CI_COMMIT = "shipyard.ci.commit"
CI_BRANCH = "shipyard.ci.branch"
CI_STATUS = "shipyard.ci.status"  # one of CI_STATUSES
CI_PROVIDER = "shipyard.ci.provider"  # "shipyard" (embedded runner), "github", "gitlab"
CI_RUN_ID = "shipyard.ci.run_id"  # the CI run's id; a training run points at the CI run that made it
CI_STEPS = "shipyard.ci.steps"  # comma-separated make targets that ran, in order
CI_FAILED_STEP = "shipyard.ci.failed_step"
CI_PUSHED_BY = "shipyard.ci.pushed_by"  # the verified signed-in account that pushed (set by the runner)
CI_STATUSES = ("queued", "running", "passed", "failed", "interrupted")

# lineage and cost inputs, on training runs and copied onto model versions
GIT_COMMIT = "mlflow.source.git.commit"  # MLflow's own tag name
GIT_DIRTY = "shipyard.git.dirty"  # "true" when the working tree had uncommitted changes (never registered)
DATA_HASH = "shipyard.data.hash"  # DVC md5 of the training inputs
DATA_PATH = "shipyard.data.path"
LABEL_EXPORT = "shipyard.label.export"  # Label Studio export/snapshot id used for the training labels
INSTANCE_TYPE = "shipyard.instance_type"  # e.g. "g5.xlarge"; "local" on a laptop
GPU_COUNT = "shipyard.gpu_count"
GPU_TYPE = "shipyard.gpu_type"

# model acceptance gate
GATE_RESULT = "shipyard.gate.result"  # "passed" or "failed"
GATE_REASON = "shipyard.gate.reason"
GATE_DRY_RUN = "shipyard.gate.dry_run"  # "passed"/"failed": a branch's dry run; never makes a run registrable
GATE_RESULTS = ("passed", "failed")

# model version tags
MODEL_RUN_ID = "shipyard.run_id"
MODEL_CARD = "shipyard.model_card"  # artifact path of the model card inside the run
CREATED_BY = "shipyard.created_by"  # who pushed the commit the version was trained from (the registry's copy)

# approvals (governance)
APPROVED_BY = "shipyard.approval.by"
APPROVED_AT = "shipyard.approval.at"
# the last reproduction of a version from its lineage (registry/reproduce.py): "passed" or "failed",
# when (UTC ISO 8601) and who asked; the audit event (reproduce.passed/failed) holds the evidence
REPRODUCED = "shipyard.reproduce.result"
REPRODUCED_AT = "shipyard.reproduce.at"
REPRODUCED_BY = "shipyard.reproduce.by"

# ML Test Score: experiment tag <prefix><test id> (e.g. shipyard.mltest.data-2) = link to the document
# showing a test is done by hand; counts 0.5 where the platform sees no automated evidence
MLTEST_PREFIX = "shipyard.mltest."

# --- registered model aliases ---
CHAMPION = "champion"  # in production
CHALLENGER = "challenger"  # passed the gate, waiting for promotion

# --- Prometheus metric names pushed to the pushgateway ---
METRIC_DRIFT_SHARE = "shipyard_drift_share"
METRIC_FEATURE_DRIFT = "shipyard_feature_drift"
# the drift metrics' ``source`` label (and Pushgateway grouping key): what was compared with the training
# reference. Each source is its own series: CI's check on the held-out split never overwrites production's.
DRIFT_SOURCE = "source"
DRIFT_SOURCE_HELD_OUT = "held_out"  # the project's own held-out split (CI's `make monitor`)
DRIFT_SOURCE_SCORED = "scored_batch"  # a batch scored with the champion (`make predict`, then `make monitor`)
DRIFT_SOURCE_SERVED = "served"  # traffic a served model answered
DRIFT_SOURCES = (DRIFT_SOURCE_HELD_OUT, DRIFT_SOURCE_SCORED, DRIFT_SOURCE_SERVED)
# PromQL matcher of production drift: every series but the held-out check (one pushed by a template from
# before sources, with no label, counts as production: it cannot be told apart)
PRODUCTION_DRIFT = f'{DRIFT_SOURCE}!="{DRIFT_SOURCE_HELD_OUT}"'
METRIC_CI_DURATION = "shipyard_ci_duration_seconds"
METRIC_CI_STATUS = "shipyard_ci_last_status"
METRIC_BUDGET_RATIO = "shipyard_budget_used_ratio"
