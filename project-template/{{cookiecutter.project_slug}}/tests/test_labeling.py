import pandas as pd

from {{ cookiecutter.package_name }} import labeling, prepare


def test_tasks_carry_row_ids_and_readable_records(dataset):
    tasks = labeling.task_records(dataset, limit=3)
    assert [t["row_id"] for t in tasks] == [0, 1, 2]
    assert "=" in tasks[0]["record"] and "target" not in tasks[0]["record"]


def test_export_annotations_are_applied_to_the_prepared_data(dataset):
    export = [
        {"data": {"row_id": 0}, "annotations": [{"result": [{"value": {"choices": ["1"]}}]}]},
        {
            "data": {"row_id": 1},
            "annotations": [{"was_cancelled": True, "result": [{"value": {"number": 5}}]}],
        },
        {"data": {"row_id": 2}, "annotations": [{"result": [{"value": {"number": 7}}]}]},
    ]
    annotations = labeling.annotations_from_export(export)
    assert annotations.to_dict("records") == [{"row_id": 0, "label": 1.0}, {"row_id": 2, "label": 7.0}]
    labeled = prepare.apply_labels(dataset, annotations)
    assert labeled.loc[0, "target"] == 1 and labeled.loc[2, "target"] == 7
    assert prepare.apply_labels(dataset, pd.DataFrame(columns=["row_id", "label"])).equals(dataset)


def test_labels_follow_the_row_id_not_the_position(dataset):
    shuffled = dataset.iloc[::-1].reset_index(drop=True)  # the same rows in another order (a new sample)
    labeled = prepare.apply_labels(shuffled, pd.DataFrame([{"row_id": 0, "label": 1.0}]))
    assert labeled.loc[labeled["row_id"] == 0, "target"].item() == 1
    last = len(shuffled) - 1
    assert labeled.loc[last, "row_id"] == 0 and labeled.loc[0, "target"] == shuffled.loc[0, "target"]
    assert "row_id" not in labeling.task_records(shuffled, limit=1)[0]["record"]
