"""Every manifest against the target version's OpenAPI schemas (kubernetes-validate, strict: unknown
fields fail), and every custom resource against its CRD's openAPIV3Schema when the CRD is in the set."""

from __future__ import annotations

from typing import Any

import jsonschema
import kubernetes_validate

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
                validators[key].validate({k: v for k, v in m.items() if k not in _SERVER_FIELDS})
            else:
                kubernetes_validate.validate(m, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            group = key[0].split("/")[0] if "/" in key[0] else ""
            if "." in group:  # a custom resource whose CRD this stack does not install
                message = f"{key[0]} {o.kind}: no CRD in the stack defines it"
            else:
                message = f"{key[0]} {o.kind} is not served by Kubernetes {version}"
            findings.append(Finding(view.stack, o.ref, "validate", message))
        except (kubernetes_validate.ValidationError, jsonschema.ValidationError) as exc:
            text = getattr(exc, "message", None) or str(exc)
            path = ".".join(
                str(p) for p in getattr(exc, "absolute_path", []) or getattr(exc, "path", []) or []
            )
            findings.append(Finding(view.stack, o.ref, "validate", f"{path}: {text}"[:300]))
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
