import numpy as np

from {{ cookiecutter.package_name }} import torch_model


def test_regression_output_is_in_the_target_units():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3)).astype(np.float32)
    y = (100 + 20 * x[:, 0]).astype(np.float32)
    params = dict(seed=0, hidden_units=16, epochs=150, learning_rate=0.02, weight_decay=0.0, device="cpu")
    model = torch_model.fit("regression", params, x, y)
    pred = torch_model.predict("regression", model, x)
    assert np.corrcoef(pred, y)[0, 1] > 0.95
    assert abs(pred.mean() - 100) < 5


def test_classifier_outputs_probabilities():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    params = dict(seed=0, hidden_units=8, epochs=100, learning_rate=0.05, weight_decay=0.0, device="cpu")
    model = torch_model.fit("classification", params, x, y)
    out = torch_model.raw_output(model, x)
    assert ((out >= 0) & (out <= 1)).all()
    assert (torch_model.predict("classification", model, x) == y).mean() > 0.9
