"""The embedded services, one module each. Each module exposes ``services(ctx) -> list[Service]``
(empty when the spec turns it off). To add a service (e.g. the portal), write a module here and add
it to ``SERVICE_MODULES``: ``up``, ``down``, ``status`` and the test fixture pick it up.
"""

from __future__ import annotations

import importlib

from shipyard.local.service import Context, Service

SERVICE_MODULES = [
    "shipyard.local.services.mlflow",
    "shipyard.local.services.prometheus",
    "shipyard.local.services.label_studio",
    "shipyard.local.services.ci_runner",
    "shipyard.local.services.portal",
    "shipyard.local.services.package_index",
    "shipyard.local.services.registry",
]


def collect(ctx: Context) -> list[Service]:
    found: list[Service] = []
    for name in SERVICE_MODULES:
        found.extend(importlib.import_module(name).services(ctx))
    return found
