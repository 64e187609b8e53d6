"""RDS Postgres for one service: private, encrypted, backed up, protected outside dev stacks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.common import Component, aws_tags, child


@dataclass(frozen=True)
class PostgresArgs:
    platform: str
    service: str  # mlflow | label-studio: also the database and user name (with '_')
    instance_class: str
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    subnet_ids: Sequence[pulumi.Input[str]]
    dev: bool = False
    storage_gb: int = 50
    backup_days: int = 14  # automated backups and point-in-time restore (platform.backups)
    engine_version: str = "16"


class PostgresDatabase(Component):
    host: pulumi.Output[str]
    port: pulumi.Output[int]
    database: str
    username: str
    password: pulumi.Output[str]  # secret
    uri: pulumi.Output[str]  # secret: postgresql://user:password@host:port/database

    def __init__(self, name: str, args: PostgresArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:infra:PostgresDatabase", name, opts)
        tags = aws_tags(args.platform, args.service)
        ident = f"{args.platform}-{args.service}"
        self.database = self.username = args.service.replace("-", "_")

        subnets = aws.rds.SubnetGroup(
            f"{name}-subnets", subnet_ids=list(args.subnet_ids), tags=tags, opts=child(self)
        )
        group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description=f"{ident} postgres: from inside the VPC only",
            ingress=[{"protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_blocks": [args.vpc_cidr]}],
            egress=[],
            tags=tags,
            opts=child(self),
        )
        password = random.RandomPassword(
            f"{name}-password", length=32, special=True, override_special="-_", opts=child(self)
        )
        suffix = random.RandomId(f"{name}-snapshot", byte_length=4, opts=child(self))
        db = aws.rds.Instance(
            f"{name}-db",
            identifier=ident,
            engine="postgres",
            engine_version=args.engine_version,
            instance_class=args.instance_class,
            allocated_storage=args.storage_gb,
            max_allocated_storage=args.storage_gb * 4,
            storage_type="gp3",
            storage_encrypted=True,
            db_name=self.database,
            username=self.username,
            password=password.result,
            db_subnet_group_name=subnets.name,
            vpc_security_group_ids=[group.id],
            publicly_accessible=False,
            multi_az=not args.dev,
            backup_retention_period=args.backup_days,
            deletion_protection=not args.dev,
            skip_final_snapshot=args.dev,
            # a fixed name fails the second destroy (the first final snapshot still exists)
            final_snapshot_identifier=None
            if args.dev
            else pulumi.Output.concat(ident, "-final-", suffix.hex),
            copy_tags_to_snapshot=True,
            auto_minor_version_upgrade=True,
            performance_insights_enabled=True,
            tags=tags,
            # deletion_protection stops the API; protect stops `pulumi destroy` and a replacing change
            opts=child(self, protect=not args.dev),
        )
        self.host = db.address
        self.port = db.port
        self.password = pulumi.Output.secret(password.result)
        self.uri = pulumi.Output.secret(
            pulumi.Output.format(
                "postgresql://{0}:{1}@{2}:{3}/{4}",
                self.username,
                password.result,
                db.address,
                db.port,
                self.database,
            )
        )
        self.register_outputs({"host": self.host, "port": self.port, "uri": self.uri})
