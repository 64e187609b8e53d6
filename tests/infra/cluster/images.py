"""Every image a pod runs must exist when the pod is pulled: Shipyard's own images must be built
and published by something in this repository (a release workflow, or the program itself: an image
resource in the graph), unless pinned by digest; and no tag may carry the vendor suffix of the
cluster's version string (a chart that tags an image with `.Capabilities.KubeVersion.Version` asks
for `kubectl:v1.35.0-eks-…` on EKS, which no registry has)."""

from __future__ import annotations

import re
from pathlib import Path

from .model import Finding, View, containers, pod_spec

REPO = Path(__file__).resolve().parents[3]
FIRST_PARTY = ("ghcr.io/shipyard-ml/",)
IMAGE_RESOURCES = ("docker:index/image:Image", "docker-build:index:Image")
# where a release workflow that publishes an image would live
WORKFLOWS = (".github/workflows/*.y*ml", ".gitlab-ci.yml", ".ci/**/*.y*ml")
TEMPLATE_OWNER = "project-template::"  # the project's own image: `make image` builds and tags it per commit


def published(view: View, root: Path = REPO) -> set[str]:
    """Image repositories something here builds and pushes (repository, without tag): a workflow
    that pushes and names the repository outside a comment (GitHub's ``${{ github.repository_owner }}``
    is the first-party organisation), or an image resource of the program."""
    found = set()
    for pattern in WORKFLOWS:
        for path in root.glob(pattern):
            lines = path.read_text(errors="replace").splitlines()
            text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
            text = re.sub(r"\$\{\{\s*github\.repository_owner\s*\}\}", FIRST_PARTY[0].split("/")[1], text)
            if re.search(r"\bpush\b", text):
                found |= {m.rstrip("/:") for m in re.findall(r"ghcr\.io/shipyard-ml/[a-z0-9._/-]+", text)}
    if view.graph is not None:
        for typ in IMAGE_RESOURCES:
            for r in view.graph.of(typ):
                name = r.plain.get("imageName") or ""
                tags = r.plain.get("tags") or ([name] if name else [])
                found |= {str(t).rsplit(":", 1)[0] for t in tags}
    return found


def vendor_suffix(kube_version: str) -> str:
    """``-eks-3a5b7c9`` of ``v1.35.0-eks-3a5b7c9``; '' for a plain version."""
    match = re.fullmatch(r"v?\d+\.\d+\.\d+(.*)", kube_version)
    return match.group(1) if match else ""


def check(view: View) -> list[Finding]:
    findings = []
    built = published(view)
    suffix = vendor_suffix(view.kube_version)
    for o in view.objects:
        spec = pod_spec(o)
        if spec is None or o.owner.startswith(TEMPLATE_OWNER):
            continue
        for c in containers(spec):
            image = str(c.get("image", ""))
            repo = (
                image.split("@", 1)[0].rsplit(":", 1)[0]
                if ":" in image.split("/")[-1]
                else image.split("@")[0]
            )
            if image.startswith(FIRST_PARTY) and "@sha256:" not in image and repo not in built:
                findings.append(
                    Finding(
                        view.stack,
                        o.ref,
                        "images",
                        f"container {c['name']}: {image} is built and published by nothing in "
                        "this repository (no release workflow, no image resource): ImagePullBackOff",
                    )
                )
            tag = image.split("@", 1)[0].rsplit(":", 1)[-1] if ":" in image.split("/")[-1] else ""
            if suffix and suffix in tag:
                findings.append(
                    Finding(
                        view.stack,
                        o.ref,
                        "images",
                        f"container {c['name']}: {image} is tagged with the cluster's version "
                        f"string ({view.kube_version}): no such image is published",
                    )
                )
    return findings
