"""The Overview judges a project on its default branch, like a repository's status badge."""

from types import SimpleNamespace as Run

from shipyard.catalog.portfolio import last_default_branch_ci


def test_failing_experiment_branch_does_not_hide_green_main():
    runs = [  # newest first, as the catalog reads them
        Run(project="p", branch="try-smaller-model", status="failed"),
        Run(project="p", branch="main", status="passed"),
        Run(project="q", branch="main", status="failed"),
        Run(project="r", branch="feature", status="passed"),
    ]
    last = last_default_branch_ci(runs)
    assert {name: run.status for name, run in last.items()} == {"p": "passed", "q": "failed", "r": "passed"}
    assert last["r"].branch == "feature"  # no default-branch run yet: the newest run stands
