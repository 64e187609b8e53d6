import pandas as pd
import pytest

from {{ cookiecutter.package_name }} import config, prepare


@pytest.fixture(scope="session")
def dataset() -> pd.DataFrame:
    """The project's own data (params.yaml data.source: the demo data only when that is the source).
    CI pulls DVC-tracked data before the tests (`make pull-raw`); a laptop: `make pull-raw` once."""
    p = config.params()
    source = p["data"]["source"]
    if source != "sklearn" and not (config.ROOT / source).is_file():
        pytest.fail(f"data.source {source} is missing: run `make pull-raw` (it is tracked by DVC)")
    return prepare.prepare(prepare.load_source(source, p["task"]))
