"""What the registry service does, as the registry service account (its MLflow credentials are in
this process's environment): submit, approve, promote/rollback, reject, retire, comment.

Every decision is appended to the audit log first-class; registry state in MLflow follows from it.
Refusals raise :class:`~shipyard.errors.RequestRefused` with a one-line reason (HTTP 403/409/422 in
:mod:`.server`). The submit path is :mod:`.submit`, the governance actions :mod:`.governance`, what
they share :mod:`.core`.
"""

from __future__ import annotations

from shipyard.errors import RequestRefused
from shipyard.registry.core import ACTING_VIA, RegistryCore, Timings
from shipyard.registry.governance import Governance
from shipyard.registry.submit import Submissions

__all__ = ["ACTING_VIA", "Registry", "RegistryCore", "RequestRefused", "Timings"]


class Registry(Submissions, Governance):
    """Reads and writes MLflow through the record layer (:class:`MlflowApi`, the registry account's
    credentials from the environment). It loads no model: a submit's models are scored in a child
    process without credentials (:mod:`.sandbox`), in the formats :mod:`.formats` accepts."""
