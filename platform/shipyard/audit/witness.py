"""Witnessed checkpoints of the audit chain's head: the anchor a rewritten or truncated log lacks.

The chain proves that no event was edited *inside* it, not that it is the whole log: whoever can
write the store can truncate its tail, or recompute every hash of a rewritten log, and ``verify``
still passes. A checkpoint ``{count, head, at}`` is HMAC-SHA256-signed with a key the registry
service never reads (``<data dir>/witness/witness.key``, 0600) and appended to a file outside the
audit store (``<data dir>/witness/checkpoints.jsonl``) by a second component: the CI runner after
each job, and every ``shipyard audit verify`` or ``checkpoint`` an auditor runs. A log with fewer
events than a checkpoint witnessed was truncated; one whose event ``count`` is not the witnessed
head was rewritten. On one machine every service runs as one Unix user, so the key is separated by
convention (no service is given it), not by the kernel.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from shipyard.audit.store import AuditStore, Verification


@dataclass(frozen=True)
class Checkpoint:
    count: int
    head: str
    at: str
    mac: str

    def body(self) -> bytes:
        return json.dumps([self.count, self.head, self.at], separators=(",", ":")).encode()

    def as_dict(self) -> dict:
        return asdict(self)


def witness_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "witness"


def checkpoints_file(data_dir: Path) -> Path:
    return witness_dir(data_dir) / "checkpoints.jsonl"


def _key(data_dir: Path, create: bool) -> bytes | None:
    path = witness_dir(data_dir) / "witness.key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        if not create:
            return None
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def _mac(key: bytes, count: int, head: str, at: str) -> str:
    return hmac.new(key, Checkpoint(count, head, at, "").body(), hashlib.sha256).hexdigest()


def checkpoints(data_dir: Path) -> list[Checkpoint]:
    """Every checkpoint on file, oldest first (a line that does not parse is kept as an invalid one)."""
    try:
        lines = checkpoints_file(data_dir).read_text().splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        try:
            d = json.loads(line)
            found.append(Checkpoint(int(d["count"]), str(d["head"]), str(d["at"]), str(d["mac"])))
        except (ValueError, KeyError, TypeError):
            found.append(Checkpoint(-1, "", "", ""))
    return found


def check(store: AuditStore, data_dir: Path) -> Verification:
    """The chain's own verification, then each checkpoint against it: the first one that does not
    hold is named (truncated below it, rewritten at it, or the checkpoint itself forged)."""
    result = store.verify()
    if not result.ok:
        return result
    cps = checkpoints(data_dir)
    if not cps:
        return result
    key = _key(data_dir, create=False)
    hashes = {e.seq: e.hash for e in store.events()}
    for n, cp in enumerate(cps, 1):
        name = f"checkpoint {n} (witnessed {cp.at[:19] or '?'}: {cp.count} events, head {cp.head[:16]})"
        if key is None or not hmac.compare_digest(cp.mac, _mac(key, cp.count, cp.head, cp.at)):
            return Verification(False, result.count, result.head, cp.count, f"{name} has no valid signature")
        if result.count < cp.count:
            return Verification(False, result.count, result.head, result.count + 1,
                                f"the log has {result.count} events but {name}: truncated")  # fmt: skip
        if cp.count and hashes.get(cp.count) != cp.head:
            why = f"event {cp.count} is not the one {name}: the chain was rewritten"
            return Verification(False, result.count, result.head, cp.count, why)
    return result


def checkpoint(store: AuditStore, data_dir: Path, now: dt.datetime | None = None) -> Checkpoint | None:
    """Witness the current head (appended only when the log still agrees with every checkpoint and
    grew since the last one); None when nothing was appended."""
    result = check(store, data_dir)
    if not result.ok:
        return None
    cps = checkpoints(data_dir)
    if cps and cps[-1].count == result.count:
        return None
    key = _key(data_dir, create=True)
    at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat(timespec="seconds")
    cp = Checkpoint(result.count, result.head, at, _mac(key, result.count, result.head, at))
    path = checkpoints_file(data_dir)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as f:
        f.write(json.dumps(cp.as_dict(), sort_keys=True) + "\n")
    return cp
