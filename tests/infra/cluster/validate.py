"""Every manifest against the target version's OpenAPI schemas (kubernetes-validate's bundled strict
schemas: unknown fields fail), and every custom resource against its CRD's openAPIV3Schema when the
CRD is in the set. kubernetes-validate's ``validate`` reads its 2 MB definitions file on every call
(~40 ms an object): the same schemas are loaded once here, and every error is reported, not the first."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jsonschema
import kubernetes_validate
import referencing
from kubernetes_validate import utils

from .model import Finding, View


def crd_schemas(view: View) -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the served version's openAPIV3Schema."""
    found = {}
    for crd in view.of("CustomResourceDefinition"):
        spec = crd.manifest["spec"]
        for v in spec["versions"]:
            if v.get("served", True) and "schema" in v:
                found[(f"{spec['group']}/{v['name']}", spec["names"]["kind"])] = v["schema"][
                    "openAPIV3Schema"
                ]
    return found


def check(view: View) -> list[Finding]:
    minor = view.kube_version.lstrip("v").split(".")
    version = f"{minor[0]}.{minor[1]}"
    validators = {key: _validator(schema) for key, schema in crd_schemas(view).items()}
    findings = []
    for o in view.objects:
        m = o.manifest
        key = (m.get("apiVersion", ""), o.kind)
        try:
            if key in validators:
                errors = validators[key].iter_errors({k: v for k, v in m.items() if k not in _SERVER_FIELDS})
            else:
                errors = _k8s_validator(version, key[0], o.kind).iter_errors(m)
            for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
                path = ".".join(str(p) for p in error.absolute_path)
                findings.append(Finding(view.stack, o.ref, "validate", f"{path}: {error.message}"[:300]))
        except kubernetes_validate.SchemaNotFoundError:
            group = key[0].split("/")[0] if "/" in key[0] else ""
            if "." in group:  # a custom resource whose CRD this stack does not install
                message = f"{key[0]} {o.kind}: no CRD in the stack defines it"
            else:
                message = f"{key[0]} {o.kind} is not served by Kubernetes {version}"
            findings.append(Finding(view.stack, o.ref, "validate", message))
    return findings


_SERVER_FIELDS = ("apiVersion", "kind", "metadata")  # the API server's (ObjectMeta), not the CRD's


def _validator(schema: dict[str, Any]) -> jsonschema.Draft7Validator:
    props = {k: v for k, v in (schema.get("properties") or {}).items() if k not in _SERVER_FIELDS}
    return jsonschema.Draft7Validator(_strict({**schema, "properties": props}))


def _strict(schema: Any) -> Any:
    """Unknown fields fail (as kubectl's and Pulumi's strict field validation has the API server say),
    except where the CRD keeps them (x-kubernetes-preserve-unknown-fields, additionalProperties)."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        k: _strict(v) if k in ("items", "additionalProperties", "allOf", "anyOf", "oneOf", "not") else v
        for k, v in schema.items()
    }
    if "properties" in schema:
        out["properties"] = {k: _strict(v) for k, v in schema["properties"].items()}
        if "additionalProperties" not in schema and not schema.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
    return out


@cache
def _k8s_schema_dir(version: str) -> str:
    """kubernetes-validate's strict schemas for the newest version not newer than ``version``."""
    found = [v for v in utils.all_versions() if utils.major_minor(v) <= version]
    if not found or version > utils.latest_version():
        raise kubernetes_validate.VersionNotSupportedError(version=version)
    return f"kubernetes-json-schema/v{found[-1]}-local-strict"


@cache
def _definitions(version: str) -> referencing.Resource:
    return referencing.Resource.from_contents(
        utils.schema_contents(f"{_k8s_schema_dir(version)}/_definitions.json", version)
    )


@cache
def _k8s_validator(version: str, api_version: str, kind: str) -> jsonschema.Draft202012Validator:
    """What kubernetes_validate.validate(..., strict=True) builds, once per (version, apiVersion, kind)."""
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    try:
        schema = utils.schema_contents(
            f"{_k8s_schema_dir(version)}/{kind.lower()}-{group_version}.json", version
        )
    except FileNotFoundError:
        raise kubernetes_validate.SchemaNotFoundError(
            version=version, kind=kind, api_version=api_version
        ) from None
    registry = referencing.Resource.from_contents(schema) @ (_definitions(version) @ referencing.Registry())
    return jsonschema.Draft202012Validator(schema, registry=registry)
