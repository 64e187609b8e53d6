from {{ cookiecutter.package_name }}.gate import evaluate_gate, metrics_diff

THRESHOLDS = {"accuracy": {"min": 0.8}, "rmse": {"max": 10.0}}


def test_passes_thresholds_without_a_champion():
    result = evaluate_gate({"accuracy": 0.9, "rmse": 5.0}, THRESHOLDS, "accuracy", 0.01)
    assert result.passed
    assert "no champion yet" in result.summary


def test_fails_a_threshold_and_says_which():
    result = evaluate_gate({"accuracy": 0.7, "rmse": 12.0}, THRESHOLDS, "accuracy", 0.01)
    assert not result.passed
    assert "accuracy 0.7000 is below the minimum 0.8" in result.summary
    assert "rmse 12.0000 is above the maximum 10.0" in result.summary


def test_unmeasured_threshold_metric_fails():
    assert not evaluate_gate({"accuracy": 0.9}, THRESHOLDS, "accuracy", 0.01).passed


def test_worse_than_champion_beyond_tolerance_fails():
    champion = ("3", {"accuracy": 0.95})
    result = evaluate_gate({"accuracy": 0.90, "rmse": 1.0}, THRESHOLDS, "accuracy", 0.01, champion)
    assert not result.passed
    assert "worse than champion v3" in result.summary


def test_within_tolerance_of_champion_passes():
    champion = ("3", {"accuracy": 0.95})
    result = evaluate_gate({"accuracy": 0.945, "rmse": 1.0}, THRESHOLDS, "accuracy", 0.01, champion)
    assert result.passed and result.champion_version == "3"


def test_lower_is_better_metrics_compare_the_other_way():
    champion = ("1", {"rmse": 4.0, "accuracy": 0.9})
    assert not evaluate_gate({"accuracy": 0.9, "rmse": 4.5}, THRESHOLDS, "rmse", 0.1, champion).passed
    assert evaluate_gate({"accuracy": 0.9, "rmse": 3.0}, THRESHOLDS, "rmse", 0.1, champion).passed


def test_metrics_diff_shows_each_metric_against_the_champion():
    lines = metrics_diff({"accuracy": 0.91, "rmse": 6.0, "f1": 0.9}, ("3", {"accuracy": 0.93, "rmse": 5.0}))
    assert lines[0] == "metrics against champion v3:"
    accuracy = next(line for line in lines if line.split()[0] == "accuracy")
    assert accuracy.split()[1:] == ["0.9100", "0.9300", "-0.0200", "worse"]
    rmse = next(line for line in lines if line.split()[0] == "rmse")
    assert rmse.split()[-1] == "worse"  # lower is better: up is worse
    assert next(line for line in lines if line.split()[0] == "f1").split()[1:] == ["0.9000", "-"]
    assert metrics_diff({"accuracy": 0.9}, None) == ["no champion yet: nothing to compare with"]
