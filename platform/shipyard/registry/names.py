"""Shared names of the registry package: run tags it reads, version tags it writes, the env var."""

from __future__ import annotations

# the names the registry service and its HTTP client share (the client is a layer below)
from shipyard.clients.registry import ENV_REGISTRY, ON_BEHALF_OF  # noqa: F401

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
VIA = "via"  # audit event detail: the account a person's action came through (the portal's)
