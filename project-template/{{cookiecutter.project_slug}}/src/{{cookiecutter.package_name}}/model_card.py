"""The model card: markdown generated from the MLflow run and the gate result, logged with the model."""

from __future__ import annotations

import yaml
from shipyard import tags

from . import config

ARTIFACT_PATH = "model_card.md"
TRAIN_PREFIX = "train_"  # train.py logs the training split's metrics as train_<metric>
WORDS_FILE = config.ROOT / "model_card.yaml"
WORDS = (("intended_use", "Intended use"), ("users", "Users"), ("limits", "Limits"), ("fairness", "Fairness"))


def own_words() -> dict[str, str]:
    """The card's own words from model_card.yaml (empty where not written yet)."""
    if not WORDS_FILE.exists():
        return {}
    found = yaml.safe_load(WORDS_FILE.read_text()) or {}
    return {field: str(found.get(field) or "").strip() for field, _ in WORDS}


def not_written(field: str) -> str:
    """What the card says for an empty field: the platform's gate reads it as missing."""
    return f"_Not written yet: fill `{field}` in model_card.yaml._"


def render(run, gate) -> str:
    """``run`` is an MLflow Run; ``gate`` a gate.GateResult."""
    p = config.project()
    t, params, metrics = run.data.tags, run.data.params, run.data.metrics
    tree = "**dirty** (uncommitted changes)" if t.get(tags.GIT_DIRTY) == "true" else "clean"
    lines = [
        f"# Model card: {p['name']} (`{p['project']}`)",
        "",
        f"{p['description']}",
        "",
        "| | |",
        "|---|---|",
        f"| Team | {p['team']} |",
        f"| Owner | {p['owner']} |",
        f"| Risk tier | {p['risk_tier']} |",
        f"| Task | {p['task']} ({p['flavour']}) |",
        f"| MLflow run | `{run.info.run_id}` |",
        f"| Git commit | `{t.get(tags.GIT_COMMIT, 'unknown')}` |",
        f"| Training data | `{t.get(tags.DATA_PATH, '?')}`, DVC md5 `{t.get(tags.DATA_HASH, '?')}` |",
        f"| Trained on | {t.get(tags.INSTANCE_TYPE, '?')}, {t.get(tags.GPU_COUNT, '0')} GPU |",
        f"| Gate | **{'passed' if gate.passed else 'failed'}**: {gate.summary} |",
        f"| Working tree | {tree} |",
    ]
    held_out = {k: v for k, v in metrics.items() if not k.startswith(TRAIN_PREFIX)}
    training = {k.removeprefix(TRAIN_PREFIX): v for k, v in metrics.items() if k.startswith(TRAIN_PREFIX)}
    for title, found in (("held-out split", held_out), ("training split", training)):
        if found:
            lines += ["", f"## Metrics ({title})", "", "| metric | value |", "|---|---|"]
            lines += [f"| {name} | {value:.4f} |" for name, value in sorted(found.items())]
    lines += ["", "## Parameters", "", "| parameter | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in sorted(params.items())]
    lines += ["", "## Intended use and limits", ""]
    words = own_words()
    for field, heading in WORDS:
        lines += [f"### {heading}", "", words.get(field) or not_written(field), ""]
    return "\n".join(lines)
