"""IAM roles for Kubernetes service accounts (IRSA): pods get short-lived credentials, never static keys."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.common import child


@dataclass(frozen=True)
class Irsa:
    """What a role for a service account needs from the cluster."""

    oidc_provider_arn: pulumi.Input[str]
    oidc_issuer: pulumi.Input[str]  # host/path, without https://


def service_account_role(
    name: str,
    irsa: Irsa,
    namespace: str,
    service_account: str,
    policy: pulumi.Input[str] | None,
    tags: dict[str, str],
    parent: pulumi.Resource,
    managed_policy_arn: str | None = None,
) -> aws.iam.Role:
    """A role only ``namespace/service_account`` can assume, with an inline and/or a managed policy."""
    trust = pulumi.Output.all(irsa.oidc_provider_arn, irsa.oidc_issuer).apply(
        lambda v: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": v[0]},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Condition": {
                            "StringEquals": {
                                f"{v[1]}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                                f"{v[1]}:aud": "sts.amazonaws.com",
                            }
                        },
                    }
                ],
            }
        )
    )
    role = aws.iam.Role(name, assume_role_policy=trust, tags=tags, opts=child(parent))
    if policy is not None:
        aws.iam.RolePolicy(name, role=role.id, policy=policy, opts=child(parent))
    if managed_policy_arn:
        aws.iam.RolePolicyAttachment(name, role=role.name, policy_arn=managed_policy_arn, opts=child(parent))
    return role


def s3_policy(bucket_arn: pulumi.Input[str], prefix: str = "") -> pulumi.Output[str]:
    """Read/write objects under ``prefix`` of one bucket (the whole bucket when prefix is empty)."""

    def doc(arn: str) -> str:
        objects = f"{arn}/{prefix.strip('/')}/*" if prefix else f"{arn}/*"
        listing: dict[str, object] = {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [arn]}
        if prefix:
            listing["Condition"] = {"StringLike": {"s3:prefix": [f"{prefix.strip('/')}/*"]}}
        return json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    listing,
                    {
                        "Effect": "Allow",
                        "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:GetObjectVersion"],
                        "Resource": [objects],
                    },
                ],
            }
        )

    return pulumi.Output.from_input(bucket_arn).apply(doc)
