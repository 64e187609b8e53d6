"""Failed sign-ins are bounded per account and address (issue #32): free tries, then waits that double
up to a cap; a right password clears the count; another address or account is not held up. The clock
is the throttle's own parameter (no sleeping, no timing assertions)."""

from __future__ import annotations

from shipyard.identity.attempts import Throttle, too_many


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_free_failures_then_doubling_waits_up_to_the_cap():
    clock = Clock()
    t = Throttle(free=3, first_wait_s=10, max_wait_s=35, clock=clock)
    for _ in range(2):
        t.failed("Alice@x.com", "10.0.0.1")
    assert t.wait_s("alice@x.com", "10.0.0.1") == 0
    t.failed("alice@x.com", "10.0.0.1")
    assert t.wait_s("alice@x.com", "10.0.0.1") == 10
    clock.now += 10
    t.failed("alice@x.com", "10.0.0.1")
    assert t.wait_s("alice@x.com", "10.0.0.1") == 20
    clock.now += 20
    t.failed("alice@x.com", "10.0.0.1")
    assert t.wait_s("alice@x.com", "10.0.0.1") == 35  # capped
    assert t.wait_s("alice@x.com", "10.0.0.2") == 0 and t.wait_s("bob@x.com", "10.0.0.1") == 0
    clock.now += 35
    t.succeeded("alice@x.com", "10.0.0.1")
    t.failed("alice@x.com", "10.0.0.1")
    assert t.wait_s("alice@x.com", "10.0.0.1") == 0  # the count started again


def test_the_message_names_the_wait_in_whole_seconds():
    assert too_many(0.2) == "too many failed sign-ins: try again in 1 s"
    assert too_many(29.6) == "too many failed sign-ins: try again in 30 s"
