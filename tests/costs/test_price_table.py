"""Bad price-table entries are rejected by the spec, naming the field."""

from __future__ import annotations

import pytest
from shipyard.spec import SpecError, parse_spec

HEAD = """platform: {name: p, environment: aws, region: us-east-1}
teams: [{name: t, owners: [a@b.example], monthly_budget: 100}]
node_pools: [{name: n, instance_types: [m6i.large], min_size: 1, max_size: 2}]
"""
EUR_TABLE = (
    "pricing: {currency: EUR, instance_hour: {m6i.large: 0.1}, gpu_hour: {}, storage_gb_month: 0.02,"
    " block_storage_gb_month: 0.08, database_hour: {db.t4g.medium: 0.07}, database_storage_gb_month: 0.1,"
    " control_plane_hour: 0.1, control_plane_extended_hour: 0.55, nat_gateway_hour: 0.04,"
    " load_balancer_hour: 0.02}\n"
)


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        ("pricing: {gpu_hour: {nvidia-a10g: -1}}\n", "pricing.gpu_hour.nvidia-a10g", ">= 0"),
        ("pricing: {spot_discount: 1}\n", "pricing.spot_discount", "less than 1"),
        ("pricing: {control_plane_hour: .nan}\n", "pricing.control_plane_hour", "finite"),
        ("pricing: {as_of: soon}\n", "pricing.as_of", "date"),
        (EUR_TABLE, "pricing.currency", "differs from platform.currency"),
        ("pricing: {currency: EUR}\n", "pricing", "must set every price itself"),
        (
            "pricing: {database_hour: {db.m6g.large: 0.15}}\n",
            "services.mlflow.database_instance",
            "no price in pricing.database_hour",
        ),
    ],
)
def test_bad_price_entry_names_the_field(extra, field, words):
    with pytest.raises(SpecError) as info:
        parse_spec(HEAD + extra, "p.yaml")
    assert field in info.value.message
    assert words in info.value.message


def test_matching_currency_accepted():
    text = HEAD.replace("region: us-east-1", "region: us-east-1, currency: EUR") + EUR_TABLE
    assert parse_spec(text).pricing.currency == "EUR"
