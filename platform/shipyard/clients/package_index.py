"""A PEP 503 simple index: the page that lists one distribution's files."""

from __future__ import annotations


def project_page(index_url: str, distribution: str, timeout: float = 10) -> str | None:
    """The HTML of ``<index>/<distribution>/``, or None when the index does not answer with it."""
    import requests

    base = index_url if index_url.endswith("/") else index_url + "/"
    try:
        response = requests.get(f"{base}{distribution}/", timeout=timeout)
        response.raise_for_status()
    except requests.RequestException:
        return None
    return response.text
