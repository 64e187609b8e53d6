"""MLflow search filters for Shipyard's records."""

from __future__ import annotations

from shipyard import tags


def quote(value: str) -> str:
    """A string literal for an MLflow filter."""
    return "'" + value.replace("'", "\\'") + "'"


def tag_key(name: str) -> str:
    """``tags.`a.b```: tag names with dots need backticks in MLflow filters."""
    return f"tags.`{name}`"


def experiment_filter(prefix: str | None = None) -> str:
    """Shipyard projects (experiments tagged ``shipyard.project``, not "Default"), by name prefix."""
    clauses = [f"{tag_key(tags.PROJECT)} LIKE '%'"]
    if prefix:
        clauses.append(f"name LIKE {quote(prefix + '%')}")
    return " AND ".join(clauses)


def name_filter(prefix: str | None) -> str:
    return f"name LIKE {quote(prefix + '%')}" if prefix else ""


def run_kind_filter(kind: str) -> str:
    return f"{tag_key(tags.RUN_KIND)} = {quote(kind)}"


def name_equals(name: str) -> str:
    return f"name = {quote(name)}"
