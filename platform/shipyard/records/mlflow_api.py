"""The one MLflow client: MLflow's REST API over one keep-alive HTTP session per thread, every
listing paged through ``next_page_token`` to the end.

REST rather than ``MlflowClient``, because:
- the portal reads hundreds of projects and tens of thousands of runs; turning them into MLflow's
  protobuf entities costs more than the requests (benchmarks/portal_load.py: cold load <= 1.2 x the
  raw paged REST calls);
- ``MlflowClient`` retries a dead server for minutes, where a page or a ``git push`` must say
  "MLflow is unavailable" within seconds; here every call has one timeout;
- importing ``mlflow`` takes seconds, which every ``git push`` (the post-receive hook) would pay.
Artifacts (uploading a CI log, reading a model card) go through ``mlflow.artifacts``, imported only
there, since MLflow's artifact repositories handle every store.

Errors map onto the family in :mod:`shipyard.errors`: no answer or HTTP 5xx -> ServiceUnavailable,
RESOURCE_DOES_NOT_EXIST -> NotFound, 401 -> NotSignedIn, 403 -> Forbidden (both Refused),
RESOURCE_ALREADY_EXISTS -> AlreadyExists, any other rejection -> BadInput.
Credentials: ``username``/``password`` (basic auth), else ``MLFLOW_TRACKING_USERNAME``/``_PASSWORD``
(``anonymous``: none). Users and permissions (basic-auth's own API) are in :mod:`.auth`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlparse

import requests

from shipyard import service_calls
from shipyard.errors import (
    SIGN_IN_FIX,
    AlreadyExists,
    BadInput,
    Forbidden,
    NotFound,
    NotSignedIn,
    Refused,
    ServiceUnavailable,
)
from shipyard.platform.endpoints import Endpoints
from shipyard.platform.env import ENV_MLFLOW_PASSWORD as ENV_PASSWORD
from shipyard.platform.env import ENV_MLFLOW_USERNAME as ENV_USERNAME

# Page sizes, within MLflow 3.x's maximums (mlflow.store.*.SEARCH_*_MAX_RESULTS_THRESHOLD). Runs are
# paged smaller: serialising 10,000 runs kept a uvicorn worker from answering its 5 s health check on a
# loaded machine, and uvicorn killed it mid-request.
EXPERIMENTS_PAGE = 50_000
RUNS_PAGE = 2_500
REGISTERED_MODELS_PAGE = 1_000
MODEL_VERSIONS_PAGE = 10_000
LOGGED_MODELS_PAGE = 100
# MLflow's search_runs takes at most 100 experiment ids per request
EXPERIMENTS_PER_RUN_SEARCH = 100
# a whole-platform read serialises thousands of runs: longer than one plain call's 10 s, unless the user
# bounds every call with $SHIPYARD_SERVICE_TIMEOUT. Such a client first asks /health within the service
# timeout, so a server that accepts and never answers is named in seconds, not after this bound.
DEFAULT_TIMEOUT = 60.0
READ_RETRY_DELAYS = (0.5, 2.0)  # seconds before the 2nd and 3rd try of a read whose connection broke


def request_timeout() -> float:
    """$SHIPYARD_SERVICE_TIMEOUT when the user set it, else :data:`DEFAULT_TIMEOUT`."""
    return service_calls.timeout() if os.environ.get(service_calls.TIMEOUT_ENV) else DEFAULT_TIMEOUT


@contextmanager
def typed_refusals() -> Iterator[None]:
    """Around a call into MLflow's own client: its 401/403 (an MlflowException) leaves as
    :class:`NotSignedIn`/:class:`Forbidden`, read from the exception's status, not its words."""
    try:
        yield
    except Exception as exc:
        refused = service_calls.refused_from(exc)
        if refused is None or refused is exc:
            raise
        raise refused from None


def kv_list(values: dict[str, Any]) -> list[dict[str, str]]:
    """A dict as MLflow's ``[{"key": k, "value": v}]``."""
    return [{"key": k, "value": str(v)} for k, v in values.items()]


class MlflowApi:
    """Calls ``/api/2.0/mlflow/...``; the search methods return every page."""

    def __init__(
        self,
        base_url: str | None,
        timeout: float | None = None,
        username: str | None = None,
        password: str | None = None,
        anonymous: bool = False,
    ) -> None:
        if not base_url:
            raise ServiceUnavailable("MLflow", None, "no tracking URL in the platform's endpoints")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout if timeout is not None else request_timeout()
        username = username or os.environ.get(ENV_USERNAME)
        password = password or os.environ.get(ENV_PASSWORD)
        self.auth = (username, password or "") if username and not anonymous else None
        self.read_retry_delays = READ_RETRY_DELAYS
        self._local = threading.local()  # one session per thread: requests.Session is not thread-safe
        self._probed = False

    @classmethod
    def of(cls, endpoints: Endpoints, timeout: float | None = None) -> MlflowApi:
        """The client for a platform's MLflow, with its credentials."""
        return cls(
            endpoints.mlflow, timeout, username=endpoints.mlflow_username, password=endpoints.mlflow_password
        )

    @property
    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            session = requests.Session()
            session.auth = self.auth
            self._local.session = session
        return self._local.session

    # --- transport ------------------------------------------------------------------------------

    def _probe(self) -> None:
        """A long-read client asks /health within the service timeout once, before its first call."""
        bound = service_calls.timeout()
        if self._probed or self.timeout <= bound:
            return
        try:
            self.session.get(f"{self.base_url}/health", timeout=bound)
        except requests.Timeout:
            raise service_calls.timed_out("MLflow", self.base_url, bound) from None
        except requests.RequestException:
            pass  # refused or reset: the call itself says so
        self._probed = True

    def call(
        self, method: str, endpoint: str, payload: dict[str, Any] | None = None, api: str = "2.0"
    ) -> dict[str, Any]:
        """``endpoint`` under ``/api/<api>/mlflow/`` (basic-auth's permissions are under 3.0)."""
        url = f"{self.base_url}/api/{api}/mlflow/{endpoint}"
        self._probe()
        # reads are idempotent: a connection the server dropped (uvicorn restarts a worker that missed its
        # health check on a loaded machine, mid-request) is retried, briefly; a write is never repeated
        attempts = len(self.read_retry_delays) + 1 if method == "GET" or endpoint.endswith("/search") else 1
        for attempt in range(attempts):
            try:
                if method == "GET":
                    resp = self.session.get(url, params=payload, timeout=self.timeout)
                else:
                    resp = self.session.request(method, url, json=payload or {}, timeout=self.timeout)
                break
            except requests.ConnectionError as exc:
                if attempt + 1 == attempts:
                    raise ServiceUnavailable("MLflow", self.base_url, type(exc).__name__) from None
                time.sleep(self.read_retry_delays[attempt])
            except requests.Timeout:
                raise service_calls.timed_out("MLflow", self.base_url, self.timeout) from None
            except requests.RequestException as exc:
                raise ServiceUnavailable("MLflow", self.base_url, type(exc).__name__) from None
        if resp.status_code >= 500:
            raise ServiceUnavailable("MLflow", self.base_url, f"HTTP {resp.status_code}")
        if not resp.ok:
            try:
                body = resp.json()
            except ValueError:
                body = {}
            message = body.get("message") or resp.text[:300]
            if body.get("error_code") == "RESOURCE_DOES_NOT_EXIST" or resp.status_code == 404:
                raise NotFound(f"MLflow has no such record ({endpoint}): {message}", "check the name or id")
            if resp.status_code in (401, 403):
                refused = NotSignedIn if resp.status_code == 401 else Forbidden
                raise refused(
                    f"MLflow refused {endpoint} (HTTP {resp.status_code}): {message}",
                    SIGN_IN_FIX if resp.status_code == 401
                    else f"sign in with an account allowed to do this ({ENV_USERNAME}/{ENV_PASSWORD})",
                )  # fmt: skip
            rejected = AlreadyExists if body.get("error_code") == "RESOURCE_ALREADY_EXISTS" else BadInput
            raise rejected(f"MLflow rejected {endpoint}: {message}", "check the filter or names given")
        try:
            return resp.json()
        except ValueError:
            raise ServiceUnavailable("MLflow", self.base_url, "answered with something not JSON") from None

    def get(self, endpoint: str, **params: Any) -> dict[str, Any]:
        return self.call("GET", endpoint, params)

    def post(self, endpoint: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.call("POST", endpoint, body)

    def paged(self, endpoint: str, key: str, payload: dict[str, Any], method: str = "POST") -> Iterator[dict]:
        payload = dict(payload)
        while True:
            page = self.call(method, endpoint, payload)
            yield from page.get(key, [])
            token = page.get("next_page_token")
            if not token:
                return
            payload["page_token"] = token

    def healthy(self, timeout: float = 2.0) -> bool:
        try:
            return self.session.get(f"{self.base_url}/health", timeout=timeout).ok
        except requests.RequestException:
            return False

    # --- searches (every page) ------------------------------------------------------------------

    def search_experiments(
        self, filter_string: str = "", max_results: int = EXPERIMENTS_PAGE, view_type: str = "ACTIVE_ONLY"
    ) -> list[dict]:
        payload = {"max_results": max_results, "view_type": view_type, "filter": filter_string}
        return list(self.paged("experiments/search", "experiments", payload))

    def search_runs(
        self,
        experiment_ids: list[str],
        filter_string: str = "",
        order_by: list[str] | None = None,
        max_results: int = RUNS_PAGE,
    ) -> list[dict]:
        """Runs of any number of experiments (searched 100 ids at a time), newest first by default."""
        if not experiment_ids:
            return []
        found: list[dict] = []
        for i in range(0, len(experiment_ids), EXPERIMENTS_PER_RUN_SEARCH):
            payload = {
                "experiment_ids": experiment_ids[i : i + EXPERIMENTS_PER_RUN_SEARCH],
                "filter": filter_string,
                "max_results": max_results,
                "run_view_type": "ACTIVE_ONLY",
                "order_by": order_by or ["attributes.start_time DESC"],
            }
            found.extend(self.paged("runs/search", "runs", payload))
        if len(experiment_ids) > EXPERIMENTS_PER_RUN_SEARCH and not order_by:
            found.sort(key=lambda r: int(r["info"].get("start_time") or 0), reverse=True)
        return found

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

    def search_logged_models(
        self, experiment_ids: list[str], filter_string: str = "", max_results: int = LOGGED_MODELS_PAGE
    ) -> list[dict]:
        """MLflow 3's logged models (``{"info": {"model_id", "source_run_id", ...}, "data": ...}``)."""
        payload = {"experiment_ids": experiment_ids, "filter": filter_string, "max_results": max_results}
        return list(self.paged("logged-models/search", "models", payload))

    # --- single records -------------------------------------------------------------------------

    def experiment_by_name(self, name: str) -> dict | None:
        """The experiment called ``name`` (also a deleted one), or None."""
        try:
            return self.get("experiments/get-by-name", experiment_name=name)["experiment"]
        except NotFound:
            return None

    def experiment(self, experiment_id: str) -> dict:
        return self.get("experiments/get", experiment_id=experiment_id)["experiment"]

    def run(self, run_id: str) -> dict:
        return self.get("runs/get", run_id=run_id)["run"]

    def registered_model(self, name: str) -> dict:
        return self.get("registered-models/get", name=name)["registered_model"]

    def model_version(self, name: str, version: int | str) -> dict:
        return self.get("model-versions/get", name=name, version=str(version))["model_version"]

    # --- writes ---------------------------------------------------------------------------------

    def create_experiment(self, name: str, tags: dict[str, str]) -> str:
        return self.post("experiments/create", {"name": name, "tags": kv_list(tags)})["experiment_id"]

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self.post(
            "experiments/set-experiment-tag", {"experiment_id": experiment_id, "key": key, "value": value}
        )

    def create_run(self, experiment_id: str, run_name: str, tags: dict[str, str]) -> dict:
        body = {
            "experiment_id": experiment_id,
            "run_name": run_name,
            "start_time": int(time.time() * 1000),
            "tags": kv_list(tags),
        }
        return self.post("runs/create", body)["run"]

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        self.post("runs/set-tag", {"run_id": run_id, "key": key, "value": value})

    def set_tags(self, run_id: str, values: dict[str, str]) -> None:
        """Several run tags in one request (``log-batch``)."""
        if values:
            self.post("runs/log-batch", {"run_id": run_id, "tags": kv_list(values)})

    def log_metrics(self, run_id: str, values: dict[str, float], step: int = 0) -> None:
        """Several metrics in one request (``log-batch``), timestamped now."""
        if values:
            now = int(time.time() * 1000)
            metrics = [
                {"key": k, "value": float(v), "timestamp": now, "step": step} for k, v in values.items()
            ]
            self.post("runs/log-batch", {"run_id": run_id, "metrics": metrics})

    def end_run(self, run_id: str, status: str) -> None:
        """``status``: MLflow's FINISHED | FAILED | KILLED; the end time is now."""
        self.post("runs/update", {"run_id": run_id, "status": status, "end_time": int(time.time() * 1000)})

    def create_registered_model(self, name: str, tags: dict[str, str]) -> dict:
        body = {"name": name, "tags": kv_list(tags)}
        return self.post("registered-models/create", body)["registered_model"]

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str,
        tags: dict[str, str],
        model_id: str = "",
        description: str = "",
    ) -> dict:
        """A new version of ``name``; MLflow 3 registers a logged model's ``models:/`` URI by ``model_id``."""
        body = {
            "name": name,
            "source": source,
            "run_id": run_id,
            "tags": kv_list(tags),
            "description": description,
        }
        if model_id:
            body["model_id"] = model_id
        return self.post("model-versions/create", body)["model_version"]

    def set_model_version_tag(self, name: str, version: int | str, key: str, value: str) -> None:
        body = {"name": name, "version": str(version), "key": key, "value": value}
        self.post("model-versions/set-tag", body)

    def set_alias(self, name: str, alias: str, version: int | str) -> None:
        self.post("registered-models/alias", {"name": name, "alias": alias, "version": str(version)})

    def delete_alias(self, name: str, alias: str) -> None:
        self.call("DELETE", "registered-models/alias", {"name": name, "alias": alias})

    # --- artifacts --------------------------------------------------------------------------------

    def log_artifact(self, run_id: str, local_path: str, artifact_path: str | None = None) -> None:
        """Upload one file to the run's artifacts.

        A server that proxies artifacts (``mlflow-artifacts:`` URIs: the embedded platform and the
        clusters) takes it over REST; any other store needs MLflow's client and its ~4 s import.
        """
        root = urlparse(self.run(run_id)["info"].get("artifact_uri") or "")
        if root.scheme != "mlflow-artifacts":
            from mlflow.tracking import MlflowClient

            with typed_refusals():
                MlflowClient(tracking_uri=self.base_url).log_artifact(run_id, local_path, artifact_path)
            return
        parts = [root.path.strip("/"), (artifact_path or "").strip("/"), os.path.basename(local_path)]
        url = f"{self.base_url}/api/2.0/mlflow-artifacts/artifacts/{quote('/'.join(p for p in parts if p))}"
        try:
            with open(local_path, "rb") as body:
                resp = self.session.put(url, data=body, timeout=self.timeout)
        except requests.RequestException as exc:
            raise ServiceUnavailable("MLflow artifacts", self.base_url, type(exc).__name__) from None
        if resp.status_code >= 500:
            raise ServiceUnavailable("MLflow artifacts", self.base_url, f"HTTP {resp.status_code}")
        if not resp.ok:
            refused = {401: NotSignedIn, 403: Forbidden}.get(resp.status_code, Refused)
            raise refused(
                f"MLflow refused the upload of {os.path.basename(local_path)} (HTTP {resp.status_code})",
                f"sign in with an account that may write run {run_id} ({ENV_USERNAME}/{ENV_PASSWORD})",
            )

    def download_artifact(self, run_id: str, artifact_path: str, dst_path: str) -> str:
        import mlflow.artifacts

        try:
            return mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=artifact_path, dst_path=dst_path, tracking_uri=self.base_url
            )
        except Exception as exc:  # MLflow raises MlflowException, requests errors or OSError here
            raise ServiceUnavailable("MLflow artifacts", self.base_url, f"{artifact_path}: {exc}") from None
