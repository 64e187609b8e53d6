"""Shipyard on Kubernetes: `pulumi up` in infra/ stands up the platform the spec describes.

Stack config names the spec file (`shipyard:spec`) and holds secrets; everything else comes from
the spec. See docs/platform-engineer.md.
"""

import pulumi
from program import build
from settings import read_settings
from shipyard.errors import UserError
from shipyard.spec import load_spec
from shipyard.spec.loader import CLUSTER

settings = read_settings()
try:
    # the same cluster rules as `shipyard spec validate --target aws|kubernetes`
    platform_spec = load_spec(settings.spec_path, target=CLUSTER)
    stack_outputs = build(platform_spec, settings)
except UserError as exc:  # a spec problem: say what and how to fix it, no traceback
    raise pulumi.RunError(str(exc)) from None

for key, value in stack_outputs.items():
    pulumi.export(key, value)
