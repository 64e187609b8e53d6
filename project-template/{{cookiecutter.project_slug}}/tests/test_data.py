from {{ cookiecutter.package_name }} import config, features, validate


def test_demo_data_matches_the_schema(dataset):
    assert len(dataset) > 100
    assert validate.check(dataset, config.schema()) == []


def test_corrupted_values_are_named_by_column_and_row(dataset):
    column = next(iter(config.schema()["columns"]))
    bad = dataset.copy()
    bad[column] = bad[column].astype(object)
    bad.loc[3, column] = -1000
    bad.loc[7, column] = "n/a"
    bad.loc[9, column] = None
    problems = "\n".join(validate.check(bad, config.schema()))
    assert f"column '{column}': 1 values outside" in problems and "rows 3" in problems
    assert "non-numeric values in rows 7" in problems
    assert "empty values in rows 9" in problems


def test_missing_column_is_reported(dataset):
    column = next(iter(config.schema()["columns"]))
    problems = validate.check(dataset.drop(columns=[column]), config.schema())
    assert problems == [f"column '{column}': missing from the data"]


def test_featurize_splits_and_standardises(dataset):
    train, test, scaler = features.featurize(dataset, config.params()["task"], 0.25, 0)
    assert len(train) + len(test) == len(dataset)
    assert abs(len(test) - 0.25 * len(dataset)) <= 1
    column = next(iter(scaler))
    assert abs(train[column].mean()) < 1e-9
    assert abs(train[column].std() - 1) < 1e-6
