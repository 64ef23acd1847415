"""Dataset loaders: built-ins, user files, splits, standardisation and every error path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from codesign.data import DatasetInfo, list_datasets, load_dataset
from hw_templates.errors import DatasetError


@pytest.mark.parametrize("name", list_datasets())
def test_builtin_dataset_splits_cover_every_sample_once(name: str) -> None:
    data = load_dataset(name, seed=1)
    n_train, n_val, n_test = data.info.split_sizes
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (n_train, n_val, n_test)
    assert n_val > 0 and n_test > 0
    assert set(np.unique(data.y_test)) == set(range(data.info.n_classes))  # stratified: every class tested
    assert np.allclose(data.x_train.reshape(n_train, -1).mean(axis=0), 0, atol=1e-4)


def test_digits_reshapes_to_the_graph_input_in_row_major_order() -> None:
    from sklearn.datasets import load_digits

    data = load_dataset("digits", (8, 8, 1), seed=0)
    assert data.x_train.shape[1:] == (8, 8, 1)
    raw = load_digits().data
    info = data.info
    again = info.standardize(raw[:3])
    assert again.shape == (3, 8, 8, 1)
    assert np.allclose(again[:, 0, 1, 0], (raw[:3, 1] - info.mean[1]) / info.std[1], atol=1e-5)


def test_same_seed_same_split_other_seed_other_split() -> None:
    a, b, c = (load_dataset("wine", seed=s) for s in (3, 3, 4))
    assert np.array_equal(a.x_test, b.x_test)
    assert not np.array_equal(a.x_test, c.x_test)


def test_info_round_trips_through_json_dict() -> None:
    info = load_dataset("breast_cancer").info
    assert DatasetInfo.from_dict(info.to_dict()) == info


def test_subset_keeps_every_class_and_the_fraction() -> None:
    data = load_dataset("digits")
    small = data.subset(0.25, seed=0)
    assert abs(len(small.y_train) - 0.25 * len(data.y_train)) <= data.info.n_classes
    assert set(np.unique(small.y_train)) == set(range(10))
    assert small.x_test is data.x_test


def _npz(tmp_path: Path, x: object, y: object, name: str = "d.npz") -> Path:
    path = tmp_path / name
    np.savez(path, X=x, y=y)
    return path


def _separable(n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = np.arange(n) % 3
    return rng.normal(size=(n, 4)) + y[:, None], y


def test_npz_and_csv_user_data_load(tmp_path: Path) -> None:
    x, y = _separable()
    assert load_dataset(str(_npz(tmp_path, x, y)), (2, 2)).x_train.shape[1:] == (2, 2)
    csv = tmp_path / "d.csv"
    lines = ["a,b,kind,c,d"] + [f"{r[0]},{r[1]},{'xyz'[k]},{r[2]},{r[3]}" for r, k in zip(x, y)]
    csv.write_text("\n".join(lines) + "\n")
    data = load_dataset(str(csv), label_column="kind")
    assert data.info.classes == ("x", "y", "z")
    assert data.x_train.shape[1] == 4


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda x, y: (np.where(np.arange(x.size).reshape(x.shape) == 5, np.nan, x), y), "NaN/inf"),
        (lambda x, y: (x, y[:-1]), "one label per sample"),
        (lambda x, y: (x, np.zeros_like(y)), "at least 2 classes"),
        (lambda x, y: (x[:0], y[:0]), "at least one sample"),
    ],
)
def test_bad_data_gives_one_line_dataset_error(tmp_path: Path, make, message: str) -> None:
    x, y = make(*_separable())
    with pytest.raises(DatasetError, match=message) as info:
        load_dataset(str(_npz(tmp_path, x, y)))
    assert "\n" not in str(info.value)


def test_wrong_shape_for_the_graph_input_names_both_sizes() -> None:
    with pytest.raises(DatasetError, match=r"holds 10 values.*64 features"):
        load_dataset("digits", (10,))


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(DatasetError, match="did you mean 'digits'"):
        load_dataset("digit")


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match=r"expected a \.npz archive"):
        load_dataset(str(bad))
    with pytest.raises(DatasetError, match="no such file"):
        load_dataset(str(tmp_path / "absent.csv"))
    np.savez(tmp_path / "nolabels.npz", X=np.ones((4, 2)))
    with pytest.raises(DatasetError, match="'X' and 'y'"):
        load_dataset(str(tmp_path / "nolabels.npz"))


def test_csv_errors_name_the_column_or_line(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("a,b,label\n1,2,0\n1,oops,1\n")
    with pytest.raises(DatasetError, match="line 3"):
        load_dataset(str(path))
    with pytest.raises(DatasetError, match="did you mean 'label'"):
        load_dataset(str(path), label_column="labels")


def test_too_few_samples_per_class_to_split(tmp_path: Path) -> None:
    x = np.arange(8.0).reshape(4, 2)
    with pytest.raises(DatasetError, match="cannot split"):
        load_dataset(str(_npz(tmp_path, x, np.array([0, 0, 0, 1]))))


def test_mnist1d_is_generated_offline_with_its_documented_size() -> None:
    pytest.importorskip("mnist1d")  # installed with the dev extras
    data = load_dataset("mnist1d", (40, 1), seed=0)
    assert sum(data.info.split_sizes) == 5000 and data.info.n_classes == 10
    assert data.x_train.shape[1:] == (40, 1)


def test_a_builtin_whose_optional_package_is_missing_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import codesign.data.datasets as datasets

    monkeypatch.setattr(datasets, "list_datasets", lambda: ["digits", "breast_cancer", "wine"])
    hint = r"needs the optional mnist1d package \(pip install 'fpga-codesign\[mnist1d\]'\)"
    with pytest.raises(DatasetError, match=hint):
        load_dataset("mnist1d")
