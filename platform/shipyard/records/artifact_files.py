"""A model's files as bytes over MLflow's artifact proxy: listed and downloaded (bounded in count and
size, no path escapes), hashed (sha256 per file), and uploaded. Nothing here loads a model.

Used by the registry (its own copy of a registered version, :mod:`shipyard.registry.model_files`) and by
the audit's deep check (:mod:`shipyard.audit.artifacts`)."""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urlparse

import requests

from shipyard.errors import ModelFilesError, NotFound, ServiceUnavailable
from shipyard.records.mlflow_api import MlflowApi

MAX_MODEL_BYTES = 2 * 1024**3  # one model's files together
MAX_MODEL_FILES = 2000
PROXY = "mlflow-artifacts"


def sha256_files(folder: Path) -> dict[str, str]:
    """Every regular file under ``folder`` (relative POSIX path -> sha256)."""
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_symlink():
            raise ModelFilesError(f"the model's files hold a link ({path.relative_to(folder)})")
        if path.is_file():
            found[path.relative_to(folder).as_posix()] = _sha256(path)
    return found


def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def md5_of(path: Path) -> str:
    """A file's md5, as DVC names its objects (what a DVC object's bytes are checked against)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "md5").hexdigest()


def _safe_relative(name: str) -> str:
    rel = PurePosixPath(name)
    if rel.is_absolute() or not rel.parts or any(p in ("", ".", "..") for p in rel.parts) or "\\" in name:
        raise ModelFilesError(f"the model's files name an unsafe path {name!r}")
    return rel.as_posix()


def proxy_path(uri: str) -> str:
    parsed = urlparse(uri)
    return parsed.path.strip("/")


def download(api: MlflowApi, artifact_uri: str, dest: Path) -> dict[str, str]:
    """The files under ``artifact_uri`` into ``dest`` (created); returns their sha256s.

    ``mlflow-artifacts:`` URIs (the embedded platform's and the clusters') go through the proxy's REST
    API with ``api``'s credentials, bounded in count and size; any other store through MLflow's client."""
    dest.mkdir(parents=True, exist_ok=True)
    if urlparse(artifact_uri).scheme != PROXY:
        import shutil
        import tempfile

        import mlflow.artifacts

        with tempfile.TemporaryDirectory(prefix="shipyard-download-") as tmp:
            try:  # MLflow puts a folder under dst_path by its own name: its contents are the model's
                got = mlflow.artifacts.download_artifacts(artifact_uri=artifact_uri, dst_path=tmp,
                                                          tracking_uri=api.base_url)  # fmt: skip
            except Exception as exc:  # MLflow raises MlflowException, requests errors or OSError here
                raise ServiceUnavailable("MLflow artifacts", api.base_url, f"{artifact_uri}: {exc}") from None
            shutil.copytree(got, dest, symlinks=True, dirs_exist_ok=True)
        return sha256_files(dest)
    root = proxy_path(artifact_uri)
    listing = _list(api, root)
    if not listing:
        raise ModelFilesError(f"{artifact_uri} holds no files")
    total = 0
    for rel, size in listing:
        total += size
        if total > MAX_MODEL_BYTES:
            raise ModelFilesError(f"the model's files are larger than {MAX_MODEL_BYTES // 2**20} MiB")
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        _get(api, f"{root}/{rel}", target, MAX_MODEL_BYTES - total + size)
    return sha256_files(dest)


def _list(api: MlflowApi, root: str) -> list[tuple[str, int]]:
    """(relative path, size) of every file under ``root``, breadth first, bounded."""
    found: list[tuple[str, int]] = []
    pending = [""]
    while pending:
        sub = pending.pop(0)
        body = call(api, "GET", "", params={"path": f"{root}/{sub}".rstrip("/")}).json()
        for entry in body.get("files", []):
            name = str(entry.get("path", ""))
            rel = _safe_relative(name if not sub else f"{sub}/{PurePosixPath(name).name}")
            if entry.get("is_dir"):
                pending.append(rel)
            else:
                found.append((rel, int(entry.get("file_size") or 0)))
            if len(found) + len(pending) > MAX_MODEL_FILES:
                raise ModelFilesError(f"the model has more than {MAX_MODEL_FILES} files")
    return found


def _get(api: MlflowApi, path: str, target: Path, limit: int) -> None:
    resp = call(api, "GET", path, stream=True)
    written = 0
    with open(target, "wb") as out:
        for block in resp.iter_content(1 << 20):
            written += len(block)
            if written > limit:
                raise ModelFilesError(f"the model's files are larger than {MAX_MODEL_BYTES // 2**20} MiB")
            out.write(block)


def call(api: MlflowApi, method: str, path: str, **kwargs) -> requests.Response:
    url = f"{api.base_url}/api/2.0/{PROXY}/artifacts" + (f"/{quote(path)}" if path else "")
    try:
        resp = api.session.request(method, url, timeout=api.timeout, **kwargs)
    except requests.RequestException as exc:
        raise ServiceUnavailable("MLflow artifacts", api.base_url, type(exc).__name__) from None
    if resp.status_code >= 500:
        raise ServiceUnavailable("MLflow artifacts", api.base_url, f"HTTP {resp.status_code}")
    if resp.status_code == 404:
        raise NotFound(f"MLflow has no artifact {path or kwargs.get('params')}", "check the model's source")
    if not resp.ok:
        raise ModelFilesError(f"MLflow refused {method} of artifact {path or '(listing)'} "
                              f"(HTTP {resp.status_code})")  # fmt: skip
    return resp


def artifact_uri_of(api: MlflowApi, source: str) -> str:
    """Where a version's ``source`` keeps its files: a logged model's (``models:/m-…``) or the URI itself."""
    parsed = urlparse(source)
    if parsed.scheme == "models" and not parsed.netloc and "/" not in parsed.path.strip("/"):
        model_id = parsed.path.strip("/")
        return str(api.get(f"logged-models/{quote(model_id)}")["model"]["info"]["artifact_uri"])
    if parsed.scheme == "runs":
        run_id, _, rel = parsed.path.strip("/").partition("/")
        root = api.run(run_id)["info"]["artifact_uri"]
        return f"{root.rstrip('/')}/{rel}" if rel else root
    return source
