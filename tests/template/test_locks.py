"""The generated project's locks stay in step with the platform: every public package at the version
the platform itself is locked to and tested with, each with hashes, and `shipyard` in none of them
(it comes only from the platform's index). `./dev lock` regenerates them."""

from __future__ import annotations

import re
import tomllib

from .conftest import REPO, TEMPLATE

PROJECT = TEMPLATE / "{{cookiecutter.project_slug}}"
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s\\;]+)", re.M)


def pins(text: str) -> dict[str, str]:
    return {re.sub(r"\[.*\]", "", name).lower().replace("_", "-"): v for name, v in PIN.findall(text)}


def entries(text: str) -> list[str]:
    """One requirement per entry (a line and its backslash continuations)."""
    joined = re.sub(r"\\\n\s*", " ", text)
    return [line for line in joined.splitlines() if line and not line.startswith(("#", " "))]


def test_the_template_lock_pins_the_platform_versions_with_hashes():
    template = (PROJECT / "requirements.lock").read_text()
    platform = pins((REPO / "requirements.lock").read_text())
    locked = pins(template)
    assert "shipyard" not in locked
    drifted = {n: (v, platform[n]) for n, v in locked.items() if n in platform and platform[n] != v}
    assert not drifted, f"run ./dev lock: template pins differ from requirements.lock: {drifted}"
    assert set(locked) - set(platform) <= {"setuptools"}, "run ./dev lock"
    for entry in entries(template):
        assert "--hash=sha256:" in entry, entry
    # everything shipyard itself requires is there, so `pip check` passes after `make install`
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=\[ ;]", r, maxsplit=1)[0].lower() for r in requires}
    assert names <= set(locked), names - set(locked)
    assert {"pytest", "ruff", "setuptools"} <= set(locked)


def test_uv_and_shipyard_are_pinned_with_hashes():
    (uv,) = entries((PROJECT / "ci" / "bootstrap.lock").read_text())
    assert uv.startswith("uv==") and "--hash=sha256:" in uv
    assert "shipyard==" in (PROJECT / "platform.lock").read_text()


def test_the_torch_locks_pin_torch_and_its_dependencies_with_hashes_at_the_platform_versions():
    template = pins((PROJECT / "requirements.lock").read_text())
    builds = {"cpu": "2.13.0+cpu", "cuda": "2.13.0"}
    for build, version in builds.items():
        text = (PROJECT / f"requirements-torch-{build}.lock").read_text()
        locked = pins(text)
        assert locked["torch"] == version
        assert all("--hash=sha256:" in entry for entry in entries(text))
        drifted = {n: (v, template[n]) for n, v in locked.items() if n in template and template[n] != v}
        assert not drifted, f"run ./dev lock: torch's dependencies differ from requirements.lock: {drifted}"
    makefile = (PROJECT / "Makefile").read_text()
    assert "TORCH_VERSION ?= 2.13.0$(if $(filter cpu,$(TORCH_BUILD)),+cpu)" in makefile
    assert "-r $(TORCH_LOCK)" in makefile and "--require-hashes" in makefile
