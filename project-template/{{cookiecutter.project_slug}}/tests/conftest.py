import pandas as pd
import pytest

from {{ cookiecutter.package_name }} import config, prepare


@pytest.fixture(scope="session")
def dataset() -> pd.DataFrame:
    return prepare.prepare(prepare.load_source("sklearn", config.params()["task"]))
