"""The pack's policies: pulumi-policy wrappers around the rule functions in shipyard_rules."""

from __future__ import annotations

import shipyard_rules as rules
from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

PACK_NAME = "shipyard-mandatory"
ENFORCEMENT = EnforcementLevel.MANDATORY
DESCRIPTIONS = {
    "rds-encrypted-private-backed-up": (
        "RDS: encrypted, not public, backups >= 7 days, deletion protection outside dev"
    ),
    "gpu-node-groups-tainted": "GPU node groups carry the nvidia.com/gpu NoSchedule taint",
    "containers-have-requests-and-limits": "Every container sets cpu and memory requests and limits",
    "no-unauthenticated-load-balancer": "No LoadBalancer Service without authentication in front",
    "cost-tags": "Taggable resources carry shipyard:platform and shipyard:component (labels on Kubernetes)",
    "no-plaintext-secrets": "No plaintext secrets in resource inputs",
}


def _resource_policy(name: str, check) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation) -> None:
        if name == "rds-encrypted-private-backed-up":
            problems = check(args.resource_type, args.props, rules.stack_of(args.urn))
        else:
            problems = check(args.resource_type, args.props)
        for problem in problems:
            report_violation(problem)

    return ResourceValidationPolicy(name=name, description=DESCRIPTIONS[name], validate=validate)


def _validate_buckets(args: StackValidationArgs, report_violation) -> None:
    for problem in rules.check_buckets((r.resource_type, r.props) for r in args.resources):
        report_violation(problem)


RESOURCE_POLICIES = [_resource_policy(name, check) for name, check in rules.RESOURCE_RULES.items()]
STACK_POLICIES = [
    StackValidationPolicy(
        name="s3-buckets-encrypted-versioned-private",
        description="S3 buckets: versioning on, server-side encryption, all public access blocked",
        validate=_validate_buckets,
    )
]
POLICIES = [*RESOURCE_POLICIES, *STACK_POLICIES]
