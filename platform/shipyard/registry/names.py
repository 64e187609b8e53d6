"""Shared names of the registry package: run tags it reads, version tags it writes, the env var."""

from __future__ import annotations

ENV_REGISTRY = "SHIPYARD_REGISTRY_URL"
EVAL_ARTIFACT = "eval/test.csv"  # the candidate's held-out split, logged by `make register`
EVAL_HASH = "shipyard.eval.hash"  # sha256 of that file, recorded on the run when it was logged
GATE_EVIDENCE = "shipyard.gate.evidence"  # version tag: the platform gate's evidence (JSON)
GATE_BY = "shipyard.gate.by"  # version tag: "platform" when the registry service registered it
DEFAULT_BRANCH = "main"
TARGET = "target"  # the label column of the evaluation data
