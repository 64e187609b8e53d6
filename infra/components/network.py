"""VPC with public subnets (NAT, load balancers), private node subnets and private database subnets."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.common import Component, aws_tags, child


@dataclass(frozen=True)
class NetworkArgs:
    platform: str
    cluster_name: str
    cidr: str = "10.40.0.0/16"
    zones: int = 2  # availability zones used (EKS needs subnets in at least two)


class Network(Component):
    vpc_id: pulumi.Output[str]
    node_subnet_ids: list[pulumi.Output[str]]
    database_subnet_ids: list[pulumi.Output[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:infra:Network", name, opts)
        tags = aws_tags(args.platform, "network")
        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"}
        subnets = list(ipaddress.ip_network(args.cidr).subnets(new_prefix=20))
        zones = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOptions(parent=self))

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**tags, "Name": f"{args.platform}-vpc"},
            opts=child(self),
        )
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=tags, opts=child(self))

        def subnet(kind: str, i: int, cidr: str, extra: dict[str, str]) -> aws.ec2.Subnet:
            return aws.ec2.Subnet(
                f"{name}-{kind}-{i}",
                vpc_id=vpc.id,
                cidr_block=cidr,
                availability_zone=zones.names[i],
                map_public_ip_on_launch=False,
                tags={**tags, **extra, "Name": f"{args.platform}-{kind}-{i}", "shipyard:tier": kind},
                opts=child(self),
            )

        n = args.zones
        public = [
            subnet("public", i, str(subnets[i]), {**cluster_tag, "kubernetes.io/role/elb": "1"})
            for i in range(n)
        ]
        nodes = [
            subnet("nodes", i, str(subnets[n + i]), {**cluster_tag, "kubernetes.io/role/internal-elb": "1"})
            for i in range(n)
        ]
        databases = [subnet("db", i, str(subnets[2 * n + i]), {}) for i in range(n)]

        public_rt = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}],
            tags=tags,
            opts=child(self),
        )
        for i, s in enumerate(public):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{i}", subnet_id=s.id, route_table_id=public_rt.id, opts=child(self)
            )

        eip = aws.ec2.Eip(f"{name}-nat", domain="vpc", tags=tags, opts=child(self))
        nat = aws.ec2.NatGateway(
            f"{name}-nat", allocation_id=eip.id, subnet_id=public[0].id, tags=tags, opts=child(self)
        )
        private_rt = aws.ec2.RouteTable(
            f"{name}-private",
            vpc_id=vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.id}],
            tags=tags,
            opts=child(self),
        )
        for i, s in enumerate(nodes + databases):
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{i}", subnet_id=s.id, route_table_id=private_rt.id, opts=child(self)
            )

        self.vpc_id = vpc.id
        self.vpc_cidr = args.cidr
        self.node_subnet_ids = [s.id for s in nodes]
        self.public_subnet_ids = [s.id for s in public]
        self.database_subnet_ids = [s.id for s in databases]
        self.register_outputs(
            {
                "vpcId": self.vpc_id,
                "nodeSubnetIds": self.node_subnet_ids,
                "publicSubnetIds": self.public_subnet_ids,
                "databaseSubnetIds": self.database_subnet_ids,
            }
        )
