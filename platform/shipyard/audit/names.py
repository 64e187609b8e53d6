"""Audit event actions: the shared names of the audit package."""

from __future__ import annotations

SUBMIT_REGISTERED = "submit.registered"  # gate passed on the default branch: version + challenger
SUBMIT_REFUSED = "submit.refused"  # the platform gate said no
SUBMIT_DRY_RUN = "submit.dry_run"  # another branch: verdict and diff only
SUBMIT_UNCHANGED = "submit.unchanged"  # same data, parameters and code as a registered version: not again
APPROVE = "approve"
REJECT = "reject"
PROMOTE = "promote"
ROLLBACK = "rollback"
RETIRE = "retire"
COMMENT = "comment"
VALIDATION_SET = "validation_set.registered"  # a validator's independent evaluation data for a model
FINDING = "finding.out_of_band"  # MLflow changed without a matching event
IDENTITIES_APPLIED = "identities.applied"  # `up` created users from the spec
GOVERNANCE_CHANGED = "spec.governance_changed"  # `up` read a spec whose governance (gates, tiers) differs
REPRODUCE_PASSED = "reproduce.passed"  # a version rebuilt from its commit, data and locks: metrics agree
REPRODUCE_FAILED = "reproduce.failed"  # ... and did not: details name the cause
PROJECT_FACTS = "project.facts"  # a project's team, risk tier and owner as the registry keeps them

GENESIS = "0" * 64
ARTIFACTS = "artifacts"  # submit.registered detail: the registry's copy of the files and their sha256s
