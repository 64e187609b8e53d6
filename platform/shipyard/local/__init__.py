"""The embedded platform: the same services as the Kubernetes platform, as local processes.

``shipyard up`` starts them (:func:`runtime.up`), ``shipyard down`` stops them, ``shipyard status``
reports them. Everything persistent lives in one data dir (:class:`layout.DataLayout`).
"""

from shipyard.local.layout import DataLayout
from shipyard.local.runtime import PlatformStatus, ServiceStatus, down, load_endpoints, status, up

__all__ = ["DataLayout", "PlatformStatus", "ServiceStatus", "down", "load_endpoints", "status", "up"]
