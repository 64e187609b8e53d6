"""The embedded platform's data dir: where everything lives (:class:`DataLayout`) and ``state.json``,
the record of what ``shipyard up`` started and the endpoints it serves."""

from shipyard.datadir.layout import DataLayout
from shipyard.datadir.state import ServiceRecord, State, load_state, save_state

__all__ = ["DataLayout", "ServiceRecord", "State", "load_state", "save_state"]
