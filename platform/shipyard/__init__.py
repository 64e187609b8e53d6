"""Shipyard: an internal developer platform for machine learning."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("shipyard")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+src"
