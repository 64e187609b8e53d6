"""Stage `prepare`: load the source data into one table with the columns of schema.yaml."""

from __future__ import annotations

import pandas as pd

from . import config


def load_source(source: str, task: str) -> pd.DataFrame:
    """The demo data shipped inside scikit-learn (no download), or a CSV file of your own."""
    if source == "sklearn":
        from sklearn import datasets

        if task == "classification":
            frame = datasets.load_breast_cancer(as_frame=True).frame
        else:
            frame = datasets.load_diabetes(as_frame=True, scaled=False).frame
        return frame.rename(columns=lambda c: c.strip().replace(" ", "_"))
    # Read as text-tolerant CSV: bad values must reach `make data-check`, which names them.
    return pd.read_csv(config.ROOT / source)


def prepare(frame: pd.DataFrame, sample_fraction: float = 1.0, seed: int = 42) -> pd.DataFrame:
    if not 0 < sample_fraction <= 1:
        raise SystemExit(f"params.yaml data.sample_fraction must be in (0, 1], got {sample_fraction}")
    frame = frame.reset_index(drop=True)
    if config.ROW_ID not in frame.columns:  # a source with its own stable row_id keeps it
        frame.insert(0, config.ROW_ID, range(len(frame)))
    if sample_fraction < 1:
        frame = frame.sample(frac=sample_fraction, random_state=seed).sort_index()
    return frame.reset_index(drop=True)
{%- if cookiecutter.labeling == "yes" %}


def apply_labels(frame: pd.DataFrame, annotations: pd.DataFrame) -> pd.DataFrame:
    """Human labels from Label Studio (data/labels/annotations.csv) win over the source's target."""
    if annotations.empty:
        return frame
    frame = frame.copy()
    labels = annotations.drop_duplicates("row_id", keep="last").set_index("row_id")["label"]
    labeled = frame[config.ROW_ID].map(labels)
    frame.loc[labeled.notna(), config.target()] = labeled[labeled.notna()].to_numpy()
    return frame
{%- endif %}


def main() -> None:
    p = config.params()
    source = load_source(p["data"]["source"], p["task"])
    frame = prepare(source, p["data"]["sample_fraction"], p["data"]["seed"])
{%- if cookiecutter.labeling == "yes" %}
    annotations_file = config.LABELS / "annotations.csv"
    if annotations_file.exists():
        frame = apply_labels(frame, pd.read_csv(annotations_file))
{%- endif %}
    config.PREPARED.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(config.PREPARED, index=False)
    print(f"prepared {len(frame)} rows x {frame.shape[1]} columns -> data/prepared/dataset.csv")


if __name__ == "__main__":
    main()
