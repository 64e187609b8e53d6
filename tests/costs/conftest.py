"""Fixtures of the cost tests: a moto Cost Explorer (AWS cannot run here; see test_actuals.py)."""

from __future__ import annotations

import boto3
import pytest
import requests
from moto import mock_aws


@pytest.fixture
def ce_client(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield boto3.client("ce", region_name="us-east-1")


def queue_ce(results: list[dict]) -> None:
    response = requests.post(
        "http://motoapi.amazonaws.com/moto-api/static/ce/cost-and-usage-results", json={"results": results}
    )
    assert response.status_code == 201


def ce_day(day: str, groups: list[tuple[str, str, str]], token: str | None = None) -> dict:
    result = {
        "ResultsByTime": [
            {
                "TimePeriod": {"Start": day, "End": day},
                "Total": {},
                "Groups": [
                    {
                        "Keys": [f"shipyard:team${team}", f"shipyard:component${component}"],
                        "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}},
                    }
                    for team, component, amount in groups
                ],
                "Estimated": False,
            }
        ],
        "DimensionValueAttributes": [],
    }
    if token:
        result["NextPageToken"] = token
    return result
