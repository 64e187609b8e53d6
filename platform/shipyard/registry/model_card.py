"""The model card as the platform's gate reads it: where the risk tier requires a card
(``model_card_required``), a run without one, or whose required sections are empty or still hold the
template's placeholders ("Intended use…", "not written yet"), does not pass. The card is the run's
artifact ``model_card.md`` (the project renders it from its data: docs/data-scientist.md)."""

from __future__ import annotations

import re

ARTIFACT = "model_card.md"
SECTION = "Intended use and limits"  # the card's own words, under "## Intended use and limits"
REQUIRED = ("Intended use", "Users", "Limits")  # its "### ..." parts the gate needs filled
PLACEHOLDER = re.compile(
    "|".join(
        (r"not written yet", r"intended use\s*(…|\.\.\.)", r"\bTODO\b", r"\bTBD\b", r"lorem ipsum",
         r"edit `src/", r"describe intended use")
    ),
    re.IGNORECASE,
)  # fmt: skip


def _sections(text: str, level: str) -> dict[str, str]:
    """heading -> body, for the headings of ``level`` ("## " or "### ") in ``text``."""
    found: dict[str, str] = {}
    parts = re.split(rf"^{level}(.+)$", text, flags=re.MULTILINE)
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        found[heading.strip()] = body
    return found


def card_problems(text: str | None) -> list[str]:
    """Why the card does not count as the required model card ([] when it does)."""
    if text is None:
        return [f"no model card: the run logged no {ARTIFACT}"]
    section = _sections(text, "## ").get(SECTION)
    if section is None:
        return [f"the model card has no '## {SECTION}' section"]
    parts = _sections(section.split("\n## ", 1)[0], "### ")
    problems = []
    for name in REQUIRED:
        body = parts.get(name, "").strip()
        if not body:
            problems.append(f"the model card's '{name}' is empty")
        elif PLACEHOLDER.search(body):
            problems.append(f"the model card's '{name}' still holds the template's placeholder")
    return problems
