"""The shared real-MLflow fixture answers the tracking API."""

from mlflow import MlflowClient


def test_real_mlflow_server_records_an_experiment(mlflow_server):
    client = MlflowClient(mlflow_server.url)
    exp_id = client.create_experiment("fixture-smoke", tags={"shipyard.project": "smoke"})
    assert client.get_experiment(exp_id).tags["shipyard.project"] == "smoke"
