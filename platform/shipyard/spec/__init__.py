"""The platform spec: model and loader."""

from shipyard.spec.fields import Environment
from shipyard.spec.governance import Governance
from shipyard.spec.labels import GPU_TAINT_KEY
from shipyard.spec.loader import SpecError, SpecProblem, load_spec, parse_spec
from shipyard.spec.model import PlatformSpec
from shipyard.spec.pricing import Pricing
from shipyard.spec.teams import NodePool, Taint, Team

__all__ = [
    "GPU_TAINT_KEY",
    "Environment",
    "Governance",
    "NodePool",
    "PlatformSpec",
    "Pricing",
    "SpecError",
    "SpecProblem",
    "Taint",
    "Team",
    "load_spec",
    "parse_spec",
]
