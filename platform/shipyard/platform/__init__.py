"""One platform, found and described in one place: spec + data dir + endpoints + stack outputs + the
environment contract.

- :mod:`~shipyard.platform.resolver`: the one resolver and the :class:`Platform` handle every command,
  the portal, the registry service and the CI runner get from it;
- :mod:`~shipyard.platform.env`: every environment variable name Shipyard reads or sets;
- :mod:`~shipyard.platform.endpoints`: where a platform's services are (what a job's environment carries);
- :mod:`~shipyard.platform.stack_outputs`: the infra program's outputs read back;
- :mod:`~shipyard.platform.layout`, :mod:`~shipyard.platform.state`: the embedded platform's data dir and
  its ``state.json``;
- :mod:`~shipyard.platform.portal`: the portal process's command and environment.

Importers name the module (nothing is re-exported here: the package imports nothing on its own).
"""
