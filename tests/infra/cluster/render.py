"""Helm releases rendered by Helm's own engine (Helm v4's Go SDK through helm-python-sdk; no helm
binary, no cluster, no chart repository), from the archives vendored under tests/infra/charts/.

``Chart.render`` takes no Kubernetes version (its Capabilities say v1.36.0), but the SDK's native
``helm_render`` reads the Go options ``kube_version`` and ``api_versions`` (helm-c-sdk's render
options: name, namespace, revision, is_install, is_upgrade, kube_version, api_versions): they are
passed here, so ``.Capabilities.KubeVersion`` is what the target's API server reports (on EKS a
gitVersion such as ``v1.35.0-eks-…``), and ``.Capabilities.APIVersions`` has the CRDs' groups.
A render is cached by (archive digest, values, options): each is done once per process.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CHARTS = Path(__file__).resolve().parents[1] / "charts"
ARCHIVES = CHARTS / "archives"
HOOK = "helm.sh/hook"


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML as the API server's (Go) parser reads it: a bare ``=`` (in CRDs' enums) is a string."""


_Loader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


def archive(chart: str, version: str) -> Path:
    entries = json.loads((CHARTS / "charts.json").read_text())["archives"]
    for e in entries:
        if (e["chart"], e["version"]) == (chart, version):
            return ARCHIVES / e["archive"]
    raise LookupError(f"chart {chart} {version} is not vendored under {ARCHIVES} (see charts.json)")


def digest(path: Path) -> str:
    """The chart's content digest: the archive's bytes, or a chart directory's files and their paths."""
    h = hashlib.sha256()
    for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
        if file.is_file():
            h.update(str(file.relative_to(path)).encode() + b"\0" if path.is_dir() else b"")
            h.update(file.read_bytes())
    return h.hexdigest()


_RENDERS: dict[str, list[dict[str, Any]]] = {}


def render(
    path: Path,
    values: dict[str, Any],
    name: str,
    namespace: str,
    kube_version: str,
    api_versions: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """Every manifest the chart renders (hooks included, as `helm template` does), in template order."""
    opts = {
        "name": name,
        "namespace": namespace,
        "is_install": True,
        "kube_version": kube_version,
        "api_versions": list(api_versions),
    }
    key = hashlib.sha256(
        json.dumps([digest(path), values, opts], sort_keys=True, default=str).encode()
    ).hexdigest()
    if key not in _RENDERS:
        _RENDERS[key] = _render(path, values, opts)
    return _RENDERS[key]


def _render(path: Path, values: dict[str, Any], opts: dict[str, Any]) -> list[dict[str, Any]]:
    import helm_python
    from helm_python import _native

    chart = helm_python.Chart.load(path)
    # Chart.render has no kube_version argument: call the same native function with the Go options
    out = json.loads(_native.call_string("helm_render", chart._raw(), json.dumps(values), json.dumps(opts)))
    manifests = []
    for template in sorted(out):
        if not template.endswith((".yaml", ".yml", ".json")):
            continue  # NOTES.txt
        for doc in yaml.load_all(out[template], Loader=_Loader):
            if isinstance(doc, dict) and doc.get("kind"):
                if doc["kind"].endswith("List") and "items" in doc:
                    manifests.extend(doc["items"])
                else:
                    manifests.append(doc)
    return manifests


@cache
def crds(path: Path) -> tuple[dict[str, Any], ...]:
    """The CRDs in the chart's (and its subcharts') crds/ folders: Helm installs them before anything
    else of the release and never templates them (so render() does not return them)."""
    found = []
    with tarfile.open(path) as tar:
        for member in sorted(tar.getmembers(), key=lambda m: m.name):
            parts = member.name.split("/")
            if (
                member.isfile()
                and len(parts) >= 3
                and parts[-2] == "crds"
                and parts[-1].endswith((".yaml", ".yml"))
            ):
                text = tar.extractfile(member).read().decode()  # type: ignore[union-attr]
                found += [
                    d
                    for d in yaml.load_all(io.StringIO(text), Loader=_Loader)
                    if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition"
                ]
    return tuple(found)


def is_hook(manifest: dict[str, Any]) -> bool:
    return HOOK in ((manifest.get("metadata") or {}).get("annotations") or {})
