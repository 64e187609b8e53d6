"""The images the platform runs that nobody else publishes, built from this repository during
`pulumi up` (pulumi-docker-build: BuildKit on the machine running Pulumi) and pushed to the cluster's
registry: an ECR repository per image on AWS (scanned on push, pulled by the nodes' role), or
``platform.cluster.image_registry`` on an existing cluster (the machine's `docker login` pushes, the
cluster's nodes pull). Workloads name the pushed image by digest, so a rebuild rolls them and a tag
moved by hand does not.

- ``shipyard``: infra/images/shipyard/Dockerfile (the registry service, the portal, MLflow under
  OIDC), unless ``services.registry.image`` names a prebuilt one by digest (the release workflow's,
  .github/workflows/release-image.yml).
- ``github-runner``: infra/images/github-runner/Dockerfile, the ARC runner with what the project
  template's CI runs (make, kubectl, git), for ``ci.runners.provider: github``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws
import pulumi_docker_build as docker_build

from components.common import Component, aws_tags, child

REPO = Path(__file__).resolve().parents[2]  # the build context: the Dockerfiles COPY from the root
IMAGES = REPO / "infra" / "images"
PLATFORM = docker_build.Platform.LINUX_AMD64  # the node pools' AMIs are x86_64 (node_pool.py)


@dataclass(frozen=True)
class ImageArgs:
    platform: str
    image: str  # a folder of infra/images/ holding its Dockerfile
    tag: str
    registry: str | None = None  # existing cluster: host[/path]; None: an ECR repository (AWS)
    build_args: dict[str, str] | None = None
    dev: bool = False  # a dev stack: its ECR repository goes with `pulumi destroy`, images and all


class BuiltImage(Component):
    ref: pulumi.Output[str]  # <repository>:<tag>@sha256:<digest>

    def __init__(self, name: str, args: ImageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("shipyard:infra:BuiltImage", name, opts)
        registries: list[docker_build.RegistryArgs] = []
        if args.registry is None:
            repo = aws.ecr.Repository(
                f"{name}-repo",
                name=f"{args.platform}/{args.image}",
                image_tag_mutability="MUTABLE",  # a rebuild of the same version re-tags; pods use digests
                image_scanning_configuration={"scan_on_push": True},
                encryption_configurations=[{"encryption_type": "KMS"}],
                force_delete=args.dev,
                tags=aws_tags(args.platform, "images"),
                opts=child(self),
            )
            token = aws.ecr.get_authorization_token_output(registry_id=repo.registry_id)
            registries.append(
                docker_build.RegistryArgs(
                    address=repo.repository_url.apply(lambda url: url.split("/")[0]),
                    username=token.user_name,
                    password=pulumi.Output.secret(token.password),
                )
            )
            repository: pulumi.Input[str] = repo.repository_url
        else:
            repository = f"{args.registry.rstrip('/')}/{args.image}"
        tag = pulumi.Output.concat(repository, ":", args.tag)
        image = docker_build.Image(
            f"{name}-build",
            context=docker_build.BuildContextArgs(location=str(REPO)),
            dockerfile=docker_build.DockerfileArgs(location=str(IMAGES / args.image / "Dockerfile")),
            platforms=[PLATFORM],
            build_args=args.build_args,
            tags=[tag],
            push=True,
            registries=registries,
            opts=child(self),
        )
        self.ref = pulumi.Output.concat(tag, "@", image.digest)
        self.register_outputs({"ref": self.ref})
