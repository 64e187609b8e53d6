"""Shipyard's mandatory policy pack: `pulumi preview --policy-pack policy` in infra/ (see docs)."""

from pulumi_policy import PolicyPack
from shipyard_policies import ENFORCEMENT, PACK_NAME, POLICIES

PolicyPack(name=PACK_NAME, enforcement_level=ENFORCEMENT, policies=POLICIES)
