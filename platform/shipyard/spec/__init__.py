"""The platform spec: model and loader."""

from shipyard.spec.loader import SpecError, SpecProblem, load_spec, parse_spec, resolve_spec_path
from shipyard.spec.model import (
    GPU_TAINT_KEY,
    Environment,
    Governance,
    NodePool,
    PlatformSpec,
    Pricing,
    Taint,
    Team,
)

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
    "resolve_spec_path",
]
