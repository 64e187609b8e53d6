from types import SimpleNamespace

from shipyard import tags

from {{ cookiecutter.package_name }} import config, model_card
from {{ cookiecutter.package_name }}.gate import GateResult


def test_card_carries_lineage_metrics_and_gate():
    run = SimpleNamespace(
        info=SimpleNamespace(run_id="abc123"),
        data=SimpleNamespace(
            tags={tags.GIT_COMMIT: "deadbeef", tags.DATA_HASH: "0f0f", tags.INSTANCE_TYPE: "m6i.large"},
            params={"train.seed": "42"},
            metrics={"accuracy": 0.93, "train_accuracy": 0.99},
        ),
    )
    card = model_card.render(run, GateResult(passed=True, reasons=["all thresholds met"]))
    assert card.startswith(f"# Model card: {config.project()['name']}")
    for expected in ("abc123", "deadbeef", "0f0f", "m6i.large", "| accuracy | 0.9300 |", "**passed**"):
        assert expected in card
    held_out, training = card.split("## Metrics (held-out split)")[1].split("## Metrics (training split)")
    assert "| accuracy | 0.9300 |" in held_out and "train_" not in held_out
    assert "| accuracy | 0.9900 |" in training.split("## Parameters")[0]


def test_the_cards_own_words_come_from_model_card_yaml(tmp_path, monkeypatch):
    run = SimpleNamespace(
        info=SimpleNamespace(run_id="abc123"), data=SimpleNamespace(tags={}, params={}, metrics={})
    )
    words = tmp_path / "model_card.yaml"
    words.write_text("intended_use: Rank loan applications for review\nusers: ''\n")
    monkeypatch.setattr(model_card, "WORDS_FILE", words)
    card = model_card.render(run, GateResult(passed=True, reasons=["ok"]))
    own = card.split("## Intended use and limits")[1]
    assert "### Intended use\n\nRank loan applications for review" in own
    assert "### Users\n\n_Not written yet: fill `users` in model_card.yaml._" in own
    table = card.split("## ")[0].split("| | |")[1]  # one table: no row stranded below it
    assert "| Working tree | clean |" in table and "\n\n|" not in table.strip()
