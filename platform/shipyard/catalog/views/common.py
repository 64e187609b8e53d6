"""Choices every portfolio page offers: whose projects (the project-owner view) and filters."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar


class Owned(Protocol):
    owner: str


T = TypeVar("T", bound=Owned)


def owners(items: Iterable[Owned]) -> list[str]:
    """The owners to choose among, sorted, without blanks."""
    return sorted({i.owner for i in items if i.owner})


def owned_by(items: Sequence[T], owner: str | None) -> list[T]:
    return [i for i in items if i.owner == owner]
