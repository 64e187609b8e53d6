from {{ cookiecutter.package_name }} import config, dashboard, features, monitor


def test_no_drift_on_the_same_distribution_and_drift_when_shifted(dataset):
    train, test, _ = features.featurize(dataset, config.params()["task"], 0.5, 0)
    calm = monitor.drift(train, test, p_value=0.001)
    assert calm.share < 0.2
    columns = [c for c in test.columns if c not in (config.target(), config.ROW_ID)]
    shifted = test.copy()
    shifted[columns] = shifted[columns] + 1.0
    report = monitor.drift(train, shifted, p_value=0.01)
    assert report.share > 0.9
    assert set(report.features) == set(columns)


def test_dashboard_queries_the_contract_metrics():
    board = dashboard.build("proj", "team-a", "proj", ["a", "b"])
    exprs = [t["expr"] for panel in board["panels"] for t in panel["targets"]]
    assert 'shipyard_drift_share{project="proj", model="proj"}' in exprs
    assert any(e.startswith("shipyard_feature_drift{") for e in exprs)
    assert board["uid"] and "team:team-a" in board["tags"]
