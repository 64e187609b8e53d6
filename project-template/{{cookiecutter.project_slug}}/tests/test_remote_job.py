import yaml

from {{ cookiecutter.package_name }} import config, remote_job


def test_the_job_is_tagged_with_the_commit_and_carries_the_ci_run():
    manifest = yaml.safe_load((config.ROOT / "k8s" / "train-job.yaml").read_text())
    job = remote_job.render(manifest, "0123456789abcdef", "run-1")
    assert job["metadata"]["name"] == manifest["metadata"]["name"] + "-01234567"
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["image"].endswith("/{{ cookiecutter.project_slug }}:01234567")
    assert {"name": "SHIPYARD_CI_RUN_ID", "value": "run-1"} in container["env"]
    assert container["command"][-1] == "TRAIN_REMOTE=no"  # the Job must not submit itself again
    assert "SHIPYARD_CI_RUN_ID" not in str(manifest)  # the committed manifest is left as it is
