"""Project health: the ML Test Score from the evidence the platform can see."""

from shipyard.health.evidence import Evidence, gather
from shipyard.health.ml_test_score import SECTIONS, TESTS, Scorecard, TestResult, score

__all__ = ["SECTIONS", "TESTS", "Evidence", "Scorecard", "TestResult", "gather", "score"]
