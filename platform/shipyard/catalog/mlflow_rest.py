"""MLflow's paged search endpoints over one keep-alive HTTP session.

The portal reads hundreds of projects: it must use MLflow's search APIs page by page with large
pages, never one request per model or run. The REST API is used directly (not ``MlflowClient``)
because turning tens of thousands of runs into protobuf entities costs more than the requests.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import Any

import requests

from shipyard.errors import UserError

# Page sizes, within MLflow 3.x's maximums (mlflow.store.*.SEARCH_*_MAX_RESULTS_THRESHOLD). Runs are
# paged smaller: serialising 10,000 runs kept a uvicorn worker from answering its 5 s health check on a
# loaded machine, and uvicorn killed it mid-request.
EXPERIMENTS_PAGE = 50_000
RUNS_PAGE = 2_500
REGISTERED_MODELS_PAGE = 1_000
MODEL_VERSIONS_PAGE = 10_000


class ServiceUnavailable(UserError):
    """A platform service did not answer; ``service`` names it so a page can say which one."""

    def __init__(self, service: str, url: str | None, detail: str) -> None:
        super().__init__(
            f"{service} at {url or '(not configured)'} is unavailable: {detail}",
            f"start {service} (`shipyard up` on one machine) or check its URL in the platform spec",
        )
        self.service = service
        self.url = url
        self.detail = detail


def quote(value: str) -> str:
    """A string literal for an MLflow filter."""
    return "'" + value.replace("'", "\\'") + "'"


def tag_key(name: str) -> str:
    """``tags.`a.b```: tag names with dots need backticks in MLflow filters."""
    return f"tags.`{name}`"


class MlflowRest:
    """Calls ``/api/2.0/mlflow/...`` search endpoints and pages through ``next_page_token``."""

    def __init__(self, base_url: str, timeout: float = 60.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._local = threading.local()  # one session per thread: requests.Session is not thread-safe

    @property
    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
            user, pw = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
            if user and pw:  # the same signed-in identity MlflowClient uses
                self._local.session.auth = (user, pw)
        return self._local.session

    def call(self, method: str, endpoint: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.base_url}/api/2.0/mlflow/{endpoint}"
        try:
            if method == "GET":
                resp = self.session.get(url, params=payload, timeout=self.timeout)
            else:
                resp = self.session.post(url, json=payload or {}, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ServiceUnavailable("MLflow", self.base_url, type(exc).__name__) from None
        if resp.status_code >= 500 or resp.status_code in (502, 503, 504):
            raise ServiceUnavailable("MLflow", self.base_url, f"HTTP {resp.status_code}")
        if not resp.ok:
            try:
                message = resp.json().get("message", resp.text[:300])
            except ValueError:
                message = resp.text[:300]
            raise UserError(f"MLflow rejected {endpoint}: {message}", "check the filter or names given")
        return resp.json()

    def paged(self, endpoint: str, key: str, payload: dict[str, Any], method: str = "POST") -> Iterator[dict]:
        payload = dict(payload)
        while True:
            page = self.call(method, endpoint, payload)
            yield from page.get(key, [])
            token = page.get("next_page_token")
            if not token:
                return
            payload["page_token"] = token

    # --- the four searches the catalog is built on -------------------------------------------

    def search_experiments(self, filter_string: str = "", max_results: int = EXPERIMENTS_PAGE) -> list[dict]:
        payload = {"max_results": max_results, "view_type": "ACTIVE_ONLY", "filter": filter_string}
        return list(self.paged("experiments/search", "experiments", payload))

    def search_runs(
        self,
        experiment_ids: list[str],
        filter_string: str = "",
        order_by: list[str] | None = None,
        max_results: int = RUNS_PAGE,
    ) -> list[dict]:
        if not experiment_ids:
            return []
        payload = {
            "experiment_ids": experiment_ids,
            "filter": filter_string,
            "max_results": max_results,
            "run_view_type": "ACTIVE_ONLY",
            "order_by": order_by or ["attributes.start_time DESC"],
        }
        return list(self.paged("runs/search", "runs", payload))

    def search_registered_models(
        self, filter_string: str = "", max_results: int = REGISTERED_MODELS_PAGE
    ) -> list[dict]:
        payload = {"filter": filter_string, "max_results": max_results}
        return list(self.paged("registered-models/search", "registered_models", payload, method="GET"))

    def search_model_versions(
        self, filter_string: str = "", max_results: int = MODEL_VERSIONS_PAGE
    ) -> list[dict]:
        payload = {"filter": filter_string, "max_results": max_results}
        return list(self.paged("model-versions/search", "model_versions", payload, method="GET"))
