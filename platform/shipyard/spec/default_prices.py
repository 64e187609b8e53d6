"""Built-in price table, used when a spec gives no ``pricing`` section.

Source: AWS public on-demand price list, region us-east-1, Linux, shared tenancy, as read on the
date in ``AS_OF`` (after AWS's June 2025 price cut for P4/P5 instances). Spot capacity is costed
with ``spot_discount`` off on-demand, a long-run average rather than a quote. Review these figures
before relying on them for budgets; a spec's own ``pricing`` section replaces the whole table.
"""

AS_OF = "2025-07-01"
SOURCE = "AWS on-demand price list, us-east-1, Linux (public list prices)"

INSTANCE_HOUR = {
    # general purpose / system pools
    "t3.medium": 0.0416,
    "t3.large": 0.0832,
    "m6i.large": 0.096,
    "m6i.xlarge": 0.192,
    "m6i.2xlarge": 0.384,
    "m6i.4xlarge": 0.768,
    "m7i.xlarge": 0.2016,
    "m7i.2xlarge": 0.4032,
    "c6i.2xlarge": 0.34,
    "r6i.2xlarge": 0.504,
    # GPU
    "g4dn.xlarge": 0.526,
    "g4dn.2xlarge": 0.752,
    "g5.xlarge": 1.006,
    "g5.2xlarge": 1.212,
    "g5.4xlarge": 1.624,
    "g5.12xlarge": 5.672,
    "g5.48xlarge": 16.288,
    "g6.xlarge": 0.8048,
    "g6.2xlarge": 0.9776,
    "g6.12xlarge": 4.6016,
    "p4d.24xlarge": 21.9576,
    "p5.48xlarge": 55.04,
}

# Per GPU hour, from the cheapest instance carrying that GPU (instance price / GPUs).
GPU_HOUR = {
    "nvidia-t4": 0.526,
    "nvidia-a10g": 1.006,
    "nvidia-l4": 0.8048,
    "nvidia-a100": 2.7447,
    "nvidia-h100": 6.88,
}

DATABASE_HOUR = {
    "db.t4g.medium": 0.065,
    "db.t4g.large": 0.129,
    "db.m6g.large": 0.152,
    "db.m6i.large": 0.171,
}

STORAGE_GB_MONTH = 0.023  # S3 Standard, first 50 TB
BLOCK_STORAGE_GB_MONTH = 0.08  # EBS gp3
DATABASE_STORAGE_GB_MONTH = 0.115  # RDS gp3
CONTROL_PLANE_HOUR = 0.10  # EKS standard support
CONTROL_PLANE_EXTENDED_HOUR = 0.60  # EKS extended support (a version 14-26 months old)
NAT_GATEWAY_HOUR = 0.045
LOAD_BALANCER_HOUR = 0.0225  # ALB, before LCU charges
