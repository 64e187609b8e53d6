from {{ cookiecutter.package_name }} import config, features, validate


def test_the_data_matches_the_schema(dataset):
    assert len(dataset) >= 20
    assert validate.check(dataset, config.schema()) == []


def _bounded_column() -> tuple[str, float]:
    """A numeric column with a range, and a value outside it."""
    for name, rule in config.schema()["columns"].items():
        if rule.get("type") != "category" and ("min" in rule or "max" in rule):
            return name, (rule["min"] - 1000 if "min" in rule else rule["max"] + 1000)
    raise AssertionError("schema.yaml has no numeric column with a min or max")


def test_corrupted_values_are_named_by_column_and_row(dataset):
    column, outside = _bounded_column()
    bad = dataset.copy()
    bad[column] = bad[column].astype(object)
    bad.loc[3, column] = outside
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


def test_unknown_column_is_refused(dataset):
    problems = validate.check(dataset.assign(extra="x"), config.schema())
    assert problems == [
        "column 'extra': not in schema.yaml (declare it with its type and range, or drop it from the source)"
    ]


def test_categorical_column_is_checked_and_one_hot_encoded(dataset):
    schema = {**config.schema(), "columns": {**config.schema()["columns"], "city": {"type": "category",
              "allowed": ["paris", "lyon"]}}}  # fmt: skip
    cities = dataset.assign(city=["paris" if i % 2 else "lyon" for i in range(len(dataset))])
    assert validate.check(cities, schema) == []
    cities.loc[4, "city"] = "rome"
    assert validate.check(cities, schema) == ["column 'city': 1 values not in ['paris', 'lyon'] in rows 4"]
    encoded = features.encode(cities, schema["columns"])
    assert "city" not in encoded and set(encoded["city=paris"]) <= {0.0, 1.0}
    assert encoded.loc[4, ["city=paris", "city=lyon"]].tolist() == [0.0, 0.0]


def test_row_ids_are_stable_when_sampling(dataset):
    from {{ cookiecutter.package_name }} import prepare

    source = prepare.load_source(config.params()["data"]["source"], config.params()["task"])
    sampled = prepare.prepare(source, sample_fraction=0.5, seed=1)
    assert dataset[config.ROW_ID].tolist() == list(range(len(dataset)))
    first = sampled.iloc[0]
    assert first.drop(config.ROW_ID).equals(dataset.iloc[int(first[config.ROW_ID])].drop(config.ROW_ID))


def test_featurize_splits_and_standardises(dataset):
    train, test, scaler = features.featurize(dataset, config.params()["task"], 0.25, 0)
    assert len(train) + len(test) == len(dataset)
    assert abs(len(test) - 0.25 * len(dataset)) <= 1
    column = next(iter(scaler))
    assert abs(train[column].mean()) < 1e-9
    assert abs(train[column].std() - 1) < 1e-6
