"""Who is who on the platform: people from the spec, service accounts, their MLflow users and the
signed-in identity of the CLI. See :mod:`.people` (roles), :mod:`.secrets` (0600 password files),
:mod:`.mlflow_users` (who gets which user and grant in MLflow's basic-auth store, made through
:mod:`shipyard.records.auth`) and :mod:`.session` (login)."""

from shipyard.identity.names import (
    ADMIN,
    PORTAL,
    REGISTRY,
    RUNNER,
    SERVICE_ACCOUNTS,
    ci_account,
)

__all__ = ["ADMIN", "PORTAL", "REGISTRY", "RUNNER", "SERVICE_ACCOUNTS", "ci_account"]
