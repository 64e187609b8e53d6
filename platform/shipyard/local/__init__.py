"""The embedded platform: the same services as the Kubernetes platform, as local processes.

``shipyard up`` starts them (:func:`lifecycle.up`), ``shipyard down`` stops them, ``shipyard status``
reports them (:mod:`status`); :mod:`readiness` says whether a command's platform runs. Everything
persistent lives in one data dir (:class:`shipyard.platform.layout.DataLayout`).
"""

from shipyard.local.lifecycle import down, up
from shipyard.local.readiness import require_running, running_endpoints
from shipyard.local.status import PlatformStatus, ServiceStatus, status

__all__ = ["PlatformStatus", "ServiceStatus", "down", "require_running", "running_endpoints", "status", "up"]
