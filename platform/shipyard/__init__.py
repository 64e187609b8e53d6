"""Shipyard: an internal developer platform for machine learning."""

from typing import Any


def __getattr__(name: str) -> Any:
    # the installed version is looked up when asked for: scanning the installed distributions takes
    # ~40 ms, which every CLI start (`shipyard status`) would pay
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("shipyard")
        except PackageNotFoundError:  # running from a source tree without an install
            return "0.0.0+src"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
