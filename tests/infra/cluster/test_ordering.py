"""The ordering checks on the real AWS example, rendered: test_defects.py checks that the custom
resources the program and the releases' *values* imply wait for kube-prometheus-stack; here every
rendered object counts (the DCGM exporter's ServiceMonitor as its chart renders it), and the
webhook that admits another release's Service is found from the rendered webhook configuration."""

from __future__ import annotations

import copy
import dataclasses

from . import ordering

DCGM = "kubernetes:helm.sh/v3:Release::gpu-dcgm-exporter"
AUTOSCALER = "kubernetes:helm.sh/v3:Release::autoscaler-release"
LB_CONTROLLER = "kubernetes:helm.sh/v3:Release::ingress-release"
LB_COMPONENT = "shipyard:infra:LoadBalancerController::ingress"  # the release's parent


def _with_edges(view, key: str, depends: list[str]):
    graph = copy.deepcopy(view.graph)
    graph.edges[key]["depends"] = depends
    return dataclasses.replace(view, graph=graph)


def test_a_rendered_custom_resource_waits_for_the_release_with_its_crd(aws_view):
    monitor = "ServiceMonitor shipyard-monitoring/dcgm-exporter"
    assert monitor in [o.ref for o in aws_view.objects if o.owner == DCGM]  # rendered, not in the graph
    assert monitor not in [f.object for f in ordering.check(aws_view)]
    unordered = _with_edges(aws_view, DCGM, [])
    assert [f.message for f in ordering.check(unordered) if f.object == monitor] == [
        "release gpu-dcgm-exporter does not wait for release monitoring-kube-prometheus-stack, "
        "which installs its CRD"
    ]


def test_a_service_waits_for_the_webhook_that_admits_it(aws_view):
    service = "Service kube-system/cluster-autoscaler-aws-cluster-autoscaler"
    assert service in [o.ref for o in aws_view.objects if o.owner == AUTOSCALER]
    assert service not in [f.object for f in ordering.check(aws_view)]  # it waits (issue 27, defect 5)
    before = aws_view.graph.edges[AUTOSCALER]["depends"]
    depends = [d for d in before if d not in (LB_CONTROLLER, LB_COMPONENT)]
    assert len(depends) < len(before)
    unordered = _with_edges(aws_view, AUTOSCALER, depends)
    (finding,) = [f for f in ordering.check(unordered) if f.object == service]
    assert "aws-load-balancer-webhook" in finding.message or "mservice.elbv2.k8s.aws" in finding.message
