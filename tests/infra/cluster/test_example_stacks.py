"""Both example stacks through every cluster's-eye check: what they find must be exactly
checks.KNOWN_DEFECTS, which is empty since issue 27's defects were fixed, so any finding fails here
(on the code before those fixes, b4ecf59, these tests report each of them). No cluster, engine or
registry runs: see checks.py and docs/platform-engineer.md."""

from __future__ import annotations

import pytest

from .checks import KNOWN_DEFECTS, run


# the examples, and each with CI runners (GitHub on EKS, GitLab on the existing cluster): the runners'
# own objects must add no finding either
@pytest.mark.parametrize("stack", ["aws_view", "k8s_view", "github_runners_view", "gitlab_runners_view"])
def test_findings_are_the_known_defects(stack, request):
    view = request.getfixturevalue(stack)
    assert len(view.objects) > 150  # the program's objects and every release's, rendered
    findings = run(view)
    found = {(f.stack, f.object, f.check) for f in findings}
    known = {k for k in KNOWN_DEFECTS if k[0] == view.stack}
    details = "\n".join(
        f"{f.object} [{f.check}] {f.message}" for f in findings if (f.stack, f.object, f.check) not in known
    )
    assert found - known == set(), f"new findings:\n{details}"
    assert known - found == set(), "fixed: delete these from checks.KNOWN_DEFECTS"
