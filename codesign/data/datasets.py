"""Offline datasets with deterministic stratified splits and a recorded standardisation.

Built in (no download ever): scikit-learn's ``digits`` (the default: 1797 8x8 images, 10 classes),
``breast_cancer`` (569 x 30, 2 classes), ``wine`` (178 x 13, 3 classes), and ``mnist1d`` (5000 x 40,
10 classes) only when the optional ``mnist1d`` package is installed (``pip install
'fpga-codesign[mnist1d]'``, part of the dev extras; generated locally with ``make_dataset``). User
data: a ``.npz`` file with arrays ``X`` and ``y``, or a ``.csv`` file with a header row, whose label
column is named by ``label_column`` (default ``label``).

Features are standardised with the mean and standard deviation of the training split; both are kept in
:class:`DatasetInfo` so inference and export can reproduce the inputs exactly. Samples are reshaped
(row-major) to the graph's channels-last input shape, e.g. digits' 64 pixels to ``(8, 8, 1)``.
The model's input quantizer then rounds the standardised values to the input precision.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import importlib.util
import math
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from codesign.config_io import check_input_file
from hw_templates.errors import DatasetError, bad_value, clip, shown

__all__ = [
    "BUILTIN_DATASETS",
    "MAX_DATASET_BYTES",
    "MAX_FEATURE_ABS",
    "Dataset",
    "DatasetInfo",
    "list_datasets",
    "load_dataset",
]

#: Largest dataset file, and largest total of a .npz's arrays once unpacked (2 GiB).
MAX_DATASET_BYTES = 2 << 30
#: Largest feature magnitude accepted: beyond it standardisation loses the data (features near 1e307
#: overflowed to inf and trained to chance accuracy with status ok).
MAX_FEATURE_ABS = 1e15


def _sklearn(name: str) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    def load() -> tuple[np.ndarray, np.ndarray]:
        from sklearn import datasets

        bunch = getattr(datasets, f"load_{name}")()
        return bunch.data, bunch.target

    return load


def _mnist1d() -> tuple[np.ndarray, np.ndarray]:
    from mnist1d.data import get_dataset_args, make_dataset

    data = make_dataset(get_dataset_args())  # generated locally; get_dataset() would download
    return np.concatenate([data["x"], data["x_test"]]), np.concatenate([data["y"], data["y_test"]])


#: Built-in dataset loaders by name.
BUILTIN_DATASETS: Mapping[str, Callable[[], tuple[np.ndarray, np.ndarray]]] = {
    "digits": _sklearn("digits"),
    "breast_cancer": _sklearn("breast_cancer"),
    "wine": _sklearn("wine"),
    "mnist1d": _mnist1d,
}


def list_datasets() -> list[str]:
    """Names usable as ``load_dataset(name)`` on this machine (mnist1d only when installed)."""
    return [n for n in BUILTIN_DATASETS if n != "mnist1d" or importlib.util.find_spec("mnist1d")]


@dataclass(frozen=True)
class DatasetInfo:
    """How a dataset was loaded, split and standardised: enough to reproduce the model's inputs.

    Attributes:
        name: built-in name or the file name.
        source: built-in name or the file path as given.
        input_shape: per-sample shape the model sees (channels-last).
        n_classes: number of classes; labels are ``0..n_classes-1``.
        classes: the original label values, in the order of the integer labels.
        mean, std: per-feature standardisation (flat, row-major order), from the training split.
        seed: split seed.
        split_sizes: samples in (train, val, test).
        label_column: CSV label column, if any.
    """

    name: str
    source: str
    input_shape: tuple[int, ...]
    n_classes: int
    classes: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    seed: int
    split_sizes: tuple[int, int, int]
    label_column: str | None = None

    def standardize(self, x: np.ndarray) -> np.ndarray:
        """Raw samples (any shape with ``prod(input_shape)`` values each) -> the model's float32 inputs."""
        flat = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        if flat.shape[1] != len(self.mean):
            raise DatasetError(bad_value("samples", f"{flat.shape[1]} features", f"{len(self.mean)} features"))
        out = (flat - np.asarray(self.mean)) / np.asarray(self.std)
        return out.astype(np.float32).reshape(len(x), *self.input_shape)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("input_shape", "classes", "mean", "std", "split_sizes"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DatasetInfo:
        kwargs = dict(data)
        for key in ("input_shape", "classes", "mean", "std", "split_sizes"):
            kwargs[key] = tuple(kwargs[key])
        return cls(**kwargs)


@dataclass(frozen=True)
class Dataset:
    """Standardised splits (float32 inputs in ``info.input_shape``, int64 labels) and their record."""

    info: DatasetInfo
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    def fingerprint(self) -> str:
        """sha256 of the standardised splits (inputs and labels of train, val and test, with dtypes and
        shapes): equal exactly when a model sees the same data in the same split."""
        digest = hashlib.sha256()
        for array in (self.x_train, self.y_train, self.x_val, self.y_val, self.x_test, self.y_test):
            block = np.ascontiguousarray(array)
            digest.update(f"{block.dtype.str}{block.shape}".encode())
            digest.update(block.tobytes())
        return digest.hexdigest()

    def subset(self, fraction: float, seed: int = 0) -> Dataset:
        """A stratified fraction of the training split (val and test unchanged): proxy data for search."""
        if not 0 < fraction <= 1:
            raise DatasetError(bad_value("proxy fraction", fraction, "a fraction in (0, 1]"))
        if fraction == 1:
            return self
        keep = _stratified_take(self.y_train, fraction, seed)
        return Dataset(self.info, self.x_train[keep], self.y_train[keep], *self._rest())

    def _rest(self) -> tuple[np.ndarray, ...]:
        return self.x_val, self.y_val, self.x_test, self.y_test


def _stratified_take(y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Indices of ``fraction`` of each class (at least one per class), in a seeded random order."""
    rng = np.random.default_rng(seed)
    keep = []
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        keep.append(rng.permutation(idx)[: max(1, round(len(idx) * fraction))])
    return np.sort(np.concatenate(keep))


def _read_npz(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not zipfile.is_zipfile(path):
        raise DatasetError(
            f"dataset {clip(path.name)}: expected a .npz archive (numpy.savez), got another kind of file"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_DATASET_BYTES:
            raise DatasetError(
                f"dataset {clip(path.name)}: expected at most {MAX_DATASET_BYTES >> 20} MiB of arrays (the limit), "
                f"got {unpacked >> 20} MiB unpacked"
            )
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in ("X", "y") if k not in data.files]
            if missing:
                raise DatasetError(
                    f"dataset {clip(path.name)}: expected arrays 'X' and 'y', got {shown(sorted(data.files))}"
                )
            return np.asarray(data["X"]), np.asarray(data["y"])
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise DatasetError(f"dataset {clip(path.name)}: cannot read it as .npz ({clip(err, 160)})") from None


def _read_csv(path: Path, label_column: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except UnicodeDecodeError as err:
        raise DatasetError(
            f"dataset {clip(path.name)}: expected UTF-8 text, got byte 0x{err.object[err.start]:02x} (save it as UTF-8)"
        ) from None
    except (OSError, csv.Error) as err:
        raise DatasetError(f"dataset {clip(path.name)}: cannot read it as CSV ({clip(err, 160)})") from None
    if not rows:
        raise DatasetError(f"dataset {clip(path.name)}: expected a header row and samples, got an empty file")
    header = [h.strip() for h in rows[0]]
    if label_column not in header:
        raise DatasetError(
            bad_value(f"dataset {clip(path.name)} label_column", label_column, "a header column", header)
        )
    col = header.index(label_column)
    labels, features = [], []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DatasetError(f"dataset {clip(path.name)} line {line}: expected {len(header)} columns, got {len(row)}")
        labels.append(row[col].strip())
        try:
            features.append([float(v) for i, v in enumerate(row) if i != col])
        except ValueError:
            raise DatasetError(f"dataset {clip(path.name)} line {line}: expected numbers in feature columns") from None
    return np.asarray(features, dtype=np.float64).reshape(len(features), len(header) - 1), np.asarray(labels)


def _raw(source: str, label_column: str | None) -> tuple[str, np.ndarray, np.ndarray]:
    path = Path(source)
    if path.suffix.lower() in (".npz", ".csv"):
        check_input_file(path, "dataset", MAX_DATASET_BYTES, "file", DatasetError)
        if path.suffix.lower() == ".npz":
            return path.name, *_read_npz(path)
        return path.name, *_read_csv(path, label_column or "label")
    names = list_datasets()
    if source in BUILTIN_DATASETS and source not in names:
        raise DatasetError(
            f"dataset {source!r} needs the optional {source} package (pip install 'fpga-codesign[{source}]'); "
            f"built in without it: {', '.join(names)}"
        )
    if source not in names:
        raise DatasetError(
            bad_value("dataset", source, "a built-in name (" + ", ".join(names) + ") or a .npz/.csv file", names)
        )
    return source, *_builtin(source)


@functools.lru_cache(maxsize=4)
def _builtin(name: str) -> tuple[np.ndarray, np.ndarray]:
    """A built-in dataset's arrays, loaded once per process (an export of many designs reloads the same
    split per design; mnist1d takes ~3 s to generate). Read-only, so no caller can change the cache."""
    x, y = BUILTIN_DATASETS[name]()
    x, y = np.array(x), np.array(y)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def _check(name: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    if x.dtype.kind not in "biuf":
        raise DatasetError(f"dataset {name}: expected numeric features, got dtype {x.dtype}")
    if x.ndim < 2 or x.size == 0:
        raise DatasetError(f"dataset {name}: expected at least one sample with features, got shape {list(x.shape)}")
    x = x.astype(np.float64).reshape(len(x), -1)
    y = np.asarray(y).reshape(-1) if np.asarray(y).ndim else np.asarray(y)
    if y.ndim != 1 or len(y) != len(x):
        raise DatasetError(f"dataset {name}: expected one label per sample, got {len(x)} samples and {y.size} labels")
    if not np.all(np.isfinite(x)):
        bad = int(np.argwhere(~np.isfinite(x))[0][0])
        raise DatasetError(f"dataset {name}: expected finite features, got NaN/inf (first in sample {bad})")
    if np.max(np.abs(x)) > MAX_FEATURE_ABS:
        bad, col = (int(i) for i in np.argwhere(np.abs(x) > MAX_FEATURE_ABS)[0])
        raise DatasetError(
            f"dataset {name}: expected features of magnitude at most {MAX_FEATURE_ABS:g} (the limit; rescale the "
            f"data), got {x[bad, col]:g} in sample {bad}, feature {col}"
        )
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise DatasetError(f"dataset {name}: expected finite labels, got NaN/inf")
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise DatasetError(f"dataset {name}: expected at least 2 classes, got {len(classes)}")
    return x, codes.astype(np.int64), tuple(str(c) for c in classes)


def _target_shape(name: str, n_features: int, input_shape: tuple[int, ...] | None) -> tuple[int, ...]:
    if input_shape is None:
        return (n_features,)
    shape = tuple(int(s) for s in input_shape)
    if math.prod(shape) != n_features:
        raise DatasetError(
            f"dataset {name}: the graph input {list(shape)} holds {math.prod(shape)} values per sample, but the "
            f"data has {n_features} features (give an input_shape with {n_features} values)"
        )
    return shape


def _split(y: np.ndarray, seed: int, val: float, test: float, name: str) -> tuple[np.ndarray, ...]:
    from sklearn.model_selection import train_test_split

    index = np.arange(len(y))
    try:
        rest, test_idx = train_test_split(index, test_size=test, random_state=seed, stratify=y)
        train_idx, val_idx = train_test_split(rest, test_size=val / (1 - test), random_state=seed, stratify=y[rest])
    except ValueError as err:
        raise DatasetError(f"dataset {name}: cannot split {len(y)} samples by class ({err})") from None
    return np.sort(train_idx), np.sort(val_idx), np.sort(test_idx)


def load_dataset(
    source: str = "digits",
    input_shape: tuple[int, ...] | None = None,
    *,
    seed: int = 0,
    val_fraction: float = 0.15,
    test_fraction: float = 0.2,
    label_column: str | None = None,
) -> Dataset:
    """Load, check, split (stratified, seeded) and standardise a dataset.

    Args:
        source: a built-in name (:func:`list_datasets`) or a ``.npz`` / ``.csv`` path.
        input_shape: per-sample shape the model expects (the graph's ``input_shape``); ``None`` keeps
            flat features.
        seed: split seed; the same seed gives the same splits.
        val_fraction, test_fraction: shares of all samples held out for validation and test.
        label_column: CSV label column (default ``label``).

    Raises:
        DatasetError: unknown name, unreadable file, NaN/inf, mismatched counts, fewer than two classes,
            too few samples to split, or a feature count that does not fit ``input_shape``.

    Example:
        >>> data = load_dataset("digits", input_shape=(8, 8, 1), seed=0)
        >>> data.x_train.shape[1:], data.info.n_classes
        ((8, 8, 1), 10)
    """
    for field, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 < value < 0.5:
            raise DatasetError(bad_value(field, value, "a fraction in (0, 0.5)"))
    name, x, y = _raw(str(source), label_column)
    x, y, classes = _check(name, np.asarray(x), np.asarray(y))
    shape = _target_shape(name, x.shape[1], input_shape)
    train, val, test = _split(y, seed, val_fraction, test_fraction, name)
    mean = x[train].mean(axis=0)
    std = x[train].std(axis=0)
    std[std < 1e-12] = 1.0  # constant features (digits' border pixels) stay at 0 after centring
    info = DatasetInfo(
        name=name,
        source=str(source),
        input_shape=shape,
        n_classes=len(classes),
        classes=classes,
        mean=tuple(float(v) for v in mean),
        std=tuple(float(v) for v in std),
        seed=seed,
        split_sizes=(len(train), len(val), len(test)),
        label_column=label_column,
    )
    parts = [(info.standardize(x[idx]), y[idx]) for idx in (train, val, test)]
    return Dataset(info, *(a for pair in parts for a in pair))
