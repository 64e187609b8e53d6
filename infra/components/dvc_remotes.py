"""DVC remotes: one bucket per team or one bucket with a prefix per team, and per-team IAM roles."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.bucket import BucketArgs, SecureBucket
from components.common import TEAM_SERVICE_ACCOUNT, Component, aws_tags, child
from components.irsa import Irsa, s3_policy, service_account_role


@dataclass(frozen=True)
class DvcRemotesArgs:
    platform: str
    teams: list[str]
    layout: str  # bucket_per_team | prefix_per_team (spec services.dvc.layout)
    bucket: str  # the bucket (prefix_per_team) or the bucket name prefix (bucket_per_team)
    noncurrent_version_days: int = 30
    irsa: Irsa | None = None  # AWS: create the buckets and the team roles; None: buckets exist already
    protect: bool = True  # the buckets (dev stacks: False)


def team_bucket(args: DvcRemotesArgs, team: str) -> str:
    return f"{args.bucket}-{team}" if args.layout == "bucket_per_team" else args.bucket


class DvcRemotes(Component):
    roots: dict[str, str]  # team -> remote root; a project's remote is <root>/<team>/<project>
    shared_root: str | None
    team_role_arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: DvcRemotesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:infra:DvcRemotes", name, opts)
        self.roots = {team: f"s3://{team_bucket(args, team)}" for team in args.teams}
        # every team's remotes lie under one root only with the prefix layout
        self.shared_root = f"s3://{args.bucket}" if args.layout == "prefix_per_team" else None
        self.team_role_arns = {}
        if args.irsa is not None:
            buckets: dict[str, SecureBucket] = {}
            for team in args.teams:
                bucket_name = team_bucket(args, team)
                if bucket_name not in buckets:
                    owner = team if args.layout == "bucket_per_team" else None
                    buckets[bucket_name] = SecureBucket(
                        f"{name}-{owner or 'shared'}",
                        BucketArgs(
                            args.platform,
                            bucket_name,
                            "dvc",
                            team=owner,
                            noncurrent_version_days=args.noncurrent_version_days,
                            protect=args.protect,
                        ),
                        opts=child(self),
                    )
                prefix = "" if args.layout == "bucket_per_team" else team
                role = service_account_role(
                    f"{name}-{team}",
                    args.irsa,
                    namespace=team,
                    service_account=TEAM_SERVICE_ACCOUNT,
                    policy=s3_policy(buckets[bucket_name].arn, prefix),
                    tags=aws_tags(args.platform, "dvc", team),
                    parent=self,
                )
                self.team_role_arns[team] = role.arn
        self.register_outputs({"roots": self.roots, "teamRoleArns": self.team_role_arns})
