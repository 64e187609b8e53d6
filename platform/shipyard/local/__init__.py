"""The embedded platform: the same services as the Kubernetes platform, as local processes.

``shipyard up`` starts them and ``shipyard down`` stops them (:mod:`.lifecycle`), ``shipyard status``
reports them (:mod:`.status`); :mod:`.readiness` says whether a command's platform runs. Everything
persistent lives in one data dir (:class:`shipyard.platform.layout.DataLayout`). Importers name the
module (``from shipyard.local.status import status``): nothing is re-exported here but what commands
ask before they call the platform.
"""

from shipyard.local.readiness import require_running, running_endpoints

__all__ = ["require_running", "running_endpoints"]
