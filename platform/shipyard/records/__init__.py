"""Shipyard's records in MLflow, its system of record: one paged client (:class:`MlflowApi`), the typed
records (Project, CiRun, TrainingRun, RegisteredModel, ModelVersion, Snapshot), their parsers, the
readers, the tag writers and basic-auth's users and permissions (:mod:`.auth`). Every other package
reads and writes MLflow only through here."""

from shipyard.records.mlflow_api import MlflowApi
from shipyard.records.model import (
    CiRun,
    ModelVersion,
    Project,
    ProjectRecords,
    RegisteredModel,
    Snapshot,
    TrainingRun,
)

__all__ = [
    "CiRun",
    "MlflowApi",
    "ModelVersion",
    "Project",
    "ProjectRecords",
    "RegisteredModel",
    "Snapshot",
    "TrainingRun",
]
