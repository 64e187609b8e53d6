"""Shared names of the registry package: run tags it reads, version tags it writes, the env var."""

from __future__ import annotations

ENV_REGISTRY = "SHIPYARD_REGISTRY_URL"
EVAL_ARTIFACT = "eval/test.csv"  # the candidate's held-out split, logged by `make register`
EVAL_HASH = "shipyard.eval.hash"  # sha256 of that file, recorded on the run when it was logged
GATE_EVIDENCE = "shipyard.gate.evidence"  # version tag: the platform gate's evidence (JSON)
GATE_BY = "shipyard.gate.by"  # version tag: "platform" when the registry service registered it
DEFAULT_BRANCH = "main"
TARGET = "target"  # the label column of the evaluation data
VALIDATION_ARTIFACT = "validation/validation.csv"  # a validator's independent evaluation data
VALIDATION_EXPERIMENT = "shipyard-validation/{model}"  # where it is kept; the project's team is denied
VALIDATION_KIND = "shipyard.validation.model"  # experiment tag: the model the validation data is for
MAX_VALIDATION_BYTES = 32 * 1024 * 1024  # one validation set (CSV)
# the portal acts for the person signed in through its OIDC proxy: it calls as its own account
# (shipyard.identity.names.PORTAL) and names the person here; the registry takes it from that account only
ON_BEHALF_OF = "X-Shipyard-On-Behalf-Of"
VIA = "via"  # audit event detail: the account a person's action came through (the portal's)
