"""The platform gate's reading of a model card: a card missing, without its intended-use section, or
whose required parts are empty or the template's placeholders does not count as the required card."""

from __future__ import annotations

from shipyard.registry.model_card import card_problems

from tests.fixtures.model_card import CARD

# what the template rendered before it read model_card.yaml, and what it renders for empty fields now
OLD_TEMPLATE = """# Model card: x

## Intended use and limits

Edit `src/x/model_card.py` to describe intended use, users, known limits and fairness checks for this model.
"""
EMPTY_WORDS = """## Intended use and limits

### Intended use

_Not written yet: fill `intended_use` in model_card.yaml._

### Users

_Not written yet: fill `users` in model_card.yaml._

### Limits

Not for diagnosis.
"""


def test_a_complete_card_counts():
    assert card_problems(CARD) == []


def test_missing_or_placeholder_cards_do_not_count():
    assert card_problems(None) == ["no model card: the run logged no model_card.md"]
    assert card_problems("# Model card\n\n| a | b |\n") == [
        "the model card has no '## Intended use and limits' section"
    ]
    assert card_problems(OLD_TEMPLATE) == [
        f"the model card's '{p}' is empty" for p in ("Intended use", "Users", "Limits")
    ]
    assert card_problems(EMPTY_WORDS) == [
        "the model card's 'Intended use' still holds the template's placeholder",
        "the model card's 'Users' still holds the template's placeholder",
    ]
    ellipsis = CARD.replace("Flag breast-cancer screening results for a second reading", "Intended use…")
    assert card_problems(ellipsis) == [
        "the model card's 'Intended use' still holds the template's placeholder"
    ]
