"""Stage `featurize`: split train/test and standardise the features with the training statistics."""

from __future__ import annotations

import json

import pandas as pd
from sklearn.model_selection import train_test_split

from . import config


def split(frame: pd.DataFrame, task: str, test_size: float, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    stratify = frame[config.target()] if task == "classification" else None
    train, test = train_test_split(frame, test_size=test_size, random_state=seed, stratify=stratify)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def encode(frame: pd.DataFrame, columns: dict[str, dict]) -> pd.DataFrame:
    """Categorical columns (``type: category`` in schema.yaml) become one 0/1 column per allowed value,
    so the feature columns are the same whatever values a batch happens to hold."""
    encoded = frame.copy()
    for name, rule in columns.items():
        if rule.get("type") == "category" and name in encoded.columns:
            for value in rule["allowed"]:
                encoded[f"{name}={value}"] = (encoded[name].astype(str) == str(value)).astype(float)
            encoded = encoded.drop(columns=[name])
    return encoded


def fit_scaler(train: pd.DataFrame) -> dict[str, dict[str, float]]:
    features = train.drop(columns=[config.target(), config.ROW_ID], errors="ignore")
    std = features.std().replace(0, 1.0)
    return {c: {"mean": float(features[c].mean()), "std": float(std[c])} for c in features.columns}


def apply_scaler(frame: pd.DataFrame, scaler: dict[str, dict[str, float]]) -> pd.DataFrame:
    scaled = frame.copy()
    for column, stats in scaler.items():
        scaled[column] = (frame[column] - stats["mean"]) / stats["std"]
    return scaled


def featurize(frame: pd.DataFrame, task: str, test_size: float, seed: int):
    train, test = split(encode(frame, config.schema()["columns"]), task, test_size, seed)
    scaler = fit_scaler(train)
    return apply_scaler(train, scaler), apply_scaler(test, scaler), scaler


def xy(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    return frame.drop(columns=[config.target(), config.ROW_ID], errors="ignore"), frame[config.target()]


def main() -> None:
    p = config.params()
    frame = pd.read_csv(config.PREPARED)
    train, test, scaler = featurize(frame, p["task"], p["featurize"]["test_size"], p["featurize"]["seed"])
    config.FEATURES.mkdir(parents=True, exist_ok=True)
    train.to_csv(config.FEATURES / "train.csv", index=False)
    test.to_csv(config.FEATURES / "test.csv", index=False)
    (config.FEATURES / "scaler.json").write_text(json.dumps(scaler, indent=2))
    print(f"featurized: {len(train)} train rows, {len(test)} test rows, {len(scaler)} features")


if __name__ == "__main__":
    main()
