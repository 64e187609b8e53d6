from {{ cookiecutter.package_name }} import config, evaluate, features, modeling


def test_model_beats_a_constant_baseline_and_survives_save_load(dataset, tmp_path):
    task = config.params()["task"]
    train, test, _ = features.featurize(dataset, task, 0.25, 0)
    (x, y), (xt, yt) = features.xy(train), features.xy(test)
    model = modeling.fit(task, config.params()["train"], x, y)
    predicted, score = modeling.predict(task, model, xt), modeling.predict_score(task, model, xt)
    found = evaluate.score(task, yt, predicted, score)
    if task == "classification":  # better than always answering the most frequent class
        baseline = yt.value_counts(normalize=True).max()
        assert found["accuracy"] > baseline
        if "roc_auc" in found:
            assert 0.5 < found["roc_auc"] <= 1
    else:  # better than always answering the mean
        assert found["r2"] > 0
    modeling.save(model, tmp_path)
    again = modeling.load(tmp_path)
    assert (modeling.predict(task, again, xt) == modeling.predict(task, model, xt)).all()


def test_score_names_match_the_gate_thresholds():
    task = config.params()["task"]
    names = set(evaluate.score(task, [0, 1, 1, 0], [0, 1, 0, 0], [0.1, 0.9, 0.4, 0.2]))
    if task == "regression":
        names = set(evaluate.score(task, [1.0, 2.0, 3.0], [1.1, 1.9, 3.2]))
    gate = config.governance()["gate"]
    assert set(gate["thresholds"]) <= names
    assert gate["primary_metric"] in names
