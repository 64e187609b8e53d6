"""Failed sign-ins, bounded: after a few wrong passwords for one account from one address, that pair
waits before its next try, twice as long after each further failure (capped). A right password
clears the count. Kept in the memory of the process that checks passwords (the registry service, the
portal): a restart forgets it, which costs an attacker a restart they cannot cause."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

FREE_FAILURES = 5  # wrong passwords before any wait
FIRST_WAIT_S = 30.0
MAX_WAIT_S = 15 * 60.0


@dataclass
class _Record:
    failures: int = 0
    blocked_until: float = 0.0


class Throttle:
    def __init__(self, free: int = FREE_FAILURES, first_wait_s: float = FIRST_WAIT_S,
                 max_wait_s: float = MAX_WAIT_S, clock=time.monotonic) -> None:  # fmt: skip
        self.free, self.first, self.max, self.clock = free, first_wait_s, max_wait_s, clock
        self._records: dict[tuple[str, str], _Record] = {}
        self._lock = threading.Lock()

    def wait_s(self, account: str, address: str) -> float:
        """Seconds before this account may try a password again from this address (0: now)."""
        with self._lock:
            record = self._records.get((account.strip().lower(), address))
            return max(0.0, record.blocked_until - self.clock()) if record else 0.0

    def failed(self, account: str, address: str) -> None:
        with self._lock:
            record = self._records.setdefault((account.strip().lower(), address), _Record())
            record.failures += 1
            over = record.failures - self.free
            if over >= 0:
                record.blocked_until = self.clock() + min(self.max, self.first * 2**over)

    def succeeded(self, account: str, address: str) -> None:
        with self._lock:
            self._records.pop((account.strip().lower(), address), None)


def too_many(wait_s: float) -> str:
    return f"too many failed sign-ins: try again in {max(1, round(wait_s))} s"
