"""The embedded platform: the same services as the Kubernetes platform, as local processes.

``shipyard up`` starts them (:func:`runtime.up`), ``shipyard down`` stops them, ``shipyard status``
reports them. Everything persistent lives in one data dir (:class:`shipyard.datadir.DataLayout`).
"""

from shipyard.local.runtime import (
    PlatformStatus,
    ServiceStatus,
    down,
    load_endpoints,
    require_running,
    status,
    up,
)

__all__ = ["PlatformStatus", "ServiceStatus", "down", "load_endpoints", "require_running", "status", "up"]
