"""An S3 bucket the way Shipyard keeps data: versioned, encrypted, private, old versions expire."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.common import Component, aws_tags, child
from components.irsa import Irsa, s3_policy, service_account_role


@dataclass(frozen=True)
class BucketArgs:
    platform: str
    bucket: str
    component: str
    team: str | None = None
    noncurrent_version_days: int = 30
    force_destroy: bool = False
    # IRSA: the one service account (namespace, name) that may read and write the bucket
    service_account: tuple[str, str] | None = None
    irsa: Irsa | None = None
    protect: bool = True  # data: `pulumi destroy` refuses until unprotected (dev stacks: False)


def tls_only_policy(bucket_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


class SecureBucket(Component):
    bucket: pulumi.Output[str]
    arn: pulumi.Output[str]
    role_arn: pulumi.Output[str] | None

    def __init__(self, name: str, args: BucketArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:infra:SecureBucket", name, opts)
        tags = aws_tags(args.platform, args.component, args.team)
        bucket = aws.s3.Bucket(
            name, bucket=args.bucket, force_destroy=args.force_destroy, tags=tags,
            opts=child(self, protect=args.protect),
        )  # fmt: skip
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child(self),
        )
        public = aws.s3.BucketPublicAccessBlock(
            f"{name}-private",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child(self),
        )
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child(self),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-sse",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"},
                    "bucket_key_enabled": True,
                }
            ],
            opts=child(self),
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=[
                {
                    "id": "expire-noncurrent-versions",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "noncurrent_version_expiration": {"noncurrent_days": args.noncurrent_version_days},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                }
            ],
            opts=child(self),
        )
        # refuse plain-HTTP requests (encryption in transit), whoever holds credentials
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket.id,
            policy=bucket.arn.apply(tls_only_policy),
            opts=child(self, depends_on=[public]),
        )
        self.bucket = bucket.bucket
        self.arn = bucket.arn
        self.role_arn = None
        if args.service_account and args.irsa:
            namespace, account = args.service_account
            role = service_account_role(
                f"{name}-access", args.irsa, namespace, account, s3_policy(bucket.arn), tags, parent=self
            )
            self.role_arn = role.arn
        self.register_outputs({"bucket": self.bucket, "arn": self.arn, "roleArn": self.role_arn})
