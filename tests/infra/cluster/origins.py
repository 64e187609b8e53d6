"""What a browser at an Ingress host may do: MLflow (3.17+) refuses state-changing requests whose
``Origin`` it was not told about (``--cors-allowed-origins``), so behind an ingress every edit in its
UI is "Cross-origin request blocked" unless the host's https origin is listed."""

from __future__ import annotations

from .model import Finding, Obj, View, containers, pod_labels, pod_spec

CORS_ENV = "MLFLOW_SERVER_CORS_ALLOWED_ORIGINS"


def _backends(view: View, ingress: Obj) -> list[tuple[str, str]]:
    """(host, service) of each rule."""
    return [
        (rule.get("host", ""), path["backend"]["service"]["name"])
        for rule in ingress.manifest.get("spec", {}).get("rules") or []
        for path in (rule.get("http") or {}).get("paths") or []
        if "service" in path.get("backend", {})
    ]


def _mlflow_origins(container: dict) -> list[str] | None:
    """The origins an `mlflow server` container allows; None if it is not one."""
    words = [str(w) for w in (container.get("command") or []) + (container.get("args") or [])]
    if "mlflow" not in words[:1] or "server" not in words[:3]:
        return None
    origins = [words[i + 1] for i, w in enumerate(words[:-1]) if w == "--cors-allowed-origins"]
    origins += [str(e.get("value", "")) for e in container.get("env") or [] if e.get("name") == CORS_ENV]
    return [o.strip() for text in origins for o in text.split(",")]


def check(view: View) -> list[Finding]:
    findings = []
    for ingress in view.of("Ingress"):
        for host, service_name in _backends(view, ingress):
            services = [
                s for s in view.of("Service") if s.name == service_name and s.namespace == ingress.namespace
            ]
            selector = services[0].manifest["spec"].get("selector") or {} if services else {}
            for o in view.objects:
                spec = pod_spec(o)
                if spec is None or o.namespace != ingress.namespace or not selector:
                    continue
                if not all(pod_labels(o).get(k) == v for k, v in selector.items()):
                    continue
                for c in containers(spec):
                    origins = _mlflow_origins(c)
                    if origins is not None and f"https://{host}" not in origins and "*" not in origins:
                        findings.append(
                            Finding(
                                view.stack,
                                o.ref,
                                "ingress",
                                f"container {c['name']}: MLflow behind https://{host} does not "
                                "list that origin in --cors-allowed-origins: every edit in its "
                                "UI is refused as a cross-origin request",
                            )
                        )
    return findings
