"""Reject bad answers before anything is generated (cookiecutter deletes the output when this exits 1)."""

import json
import keyword
import re
import sys

CONTEXT = json.loads(r"""{{ cookiecutter | tojson }}""")

SLUG = re.compile(r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")
TEAM = re.compile(r"^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CHOICES = {
    "risk_tier": ("low", "medium", "high"),
    "task": ("classification", "regression"),
    "model_flavour": ("scikit-learn", "pytorch"),
    "ci_provider": ("github", "gitlab", "both"),
    "gpu_training": ("no", "yes"),
    "labeling": ("no", "yes"),
    "python_version": ("3.11", "3.12", "3.13"),  # what Shipyard itself supports (requires-python)
}
# Free text is data: no template syntax (cruft re-renders answers on every update), one line, bounded.
TEXT_LIMITS = {"project_name": 200, "description": 500, "owner_email": 254}
# {% raw %}
JINJA_OPENERS = ("{{", "{%", "{#")
# {% endraw %}
# What a package of the answered name would hide from the project: a standard-library module or an import
# name of a locked dependency (local_extensions.shadowed_module, the check `shipyard new` makes too)
SHADOWS = json.loads(r"""[{{ cookiecutter.package_name | shadowed_module | tojson }}]""")[0]


def text_problems(ctx: dict) -> list[tuple[str, str]]:
    found = []
    for field, limit in TEXT_LIMITS.items():
        value = ctx[field]
        if any(opener in value for opener in JINJA_OPENERS):
            found.append(
                (
                    f"{field} contains template syntax ({' '.join(JINJA_OPENERS)})",
                    f"write {field} without those character pairs",
                )
            )
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            found.append((f"{field} contains a control character or line break", f"give {field} on one line"))
        if len(value) > limit:
            found.append((f"{field} is {len(value)} characters long (at most {limit})", f"shorten {field}"))
    return found


def problems(ctx: dict) -> list[tuple[str, str]]:
    found = text_problems(ctx)
    slug = ctx["project_slug"]
    if not SLUG.match(slug) or "--" in slug:
        found.append(
            (
                f"project_slug {slug!r} is not a valid slug",
                "use 2-40 lowercase letters, digits and single '-', starting with a letter "
                "(e.g. project_slug=credit-risk)",
            )
        )
    package = ctx["package_name"]
    if SHADOWS:
        found.append(
            (
                f"package_name {package!r} would shadow {SHADOWS}",
                f"use another name, e.g. package_name={package}_model (or project_slug={package}-model)",
            )
        )
    elif not (package.isidentifier() and package.islower() and not keyword.iskeyword(package)):
        found.append(
            (
                f"package_name {package!r} is not a valid Python package name",
                "use lowercase letters, digits and '_', starting with a letter (package_name=credit_risk)",
            )
        )
    if not ctx["project_name"].strip():
        found.append(("project_name is empty", "give the project a name, e.g. project_name='Credit Risk'"))
    elif not any(ch.isalnum() for ch in ctx["project_name"]):
        found.append(
            (
                f"project_name {ctx['project_name']!r} has no letter or digit",
                "give the project a name with letters or digits, e.g. project_name='Credit Risk'",
            )
        )
    if not TEAM.match(ctx["team"]):
        found.append(
            (
                f"team {ctx['team']!r} is not a valid team name",
                "use the team's name from the platform spec (lowercase letters, digits, '-')",
            )
        )
    owner = ctx["owner_email"].strip()
    if not owner:
        found.append(("owner_email is empty", "give the owner's email, e.g. owner_email=you@example.com"))
    elif not EMAIL.match(owner):
        found.append((f"owner_email {owner!r} is not an email address", "e.g. owner_email=you@example.com"))
    for field, allowed in CHOICES.items():
        if ctx[field] not in allowed:
            choices = ", ".join(allowed)
            found.append((f"{field} {ctx[field]!r} is not one of {choices}", f"set {field}={allowed[0]}"))
    if ctx["gpu_training"] == "yes" and ctx["model_flavour"] != "pytorch":
        found.append(
            (
                "gpu_training=yes needs model_flavour=pytorch (scikit-learn models do not use a GPU)",
                "set model_flavour=pytorch, or gpu_training=no",
            )
        )
    return found


def main() -> int:
    found = problems(CONTEXT)
    for message, fix in found:
        print(f"error: {message}\n  fix: {fix}", file=sys.stderr)
    if found:
        print("nothing was generated", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
