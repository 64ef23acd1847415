"""Datasets for training: built-in offline sets and user files, split and standardised reproducibly."""

from codesign.data.datasets import BUILTIN_DATASETS, Dataset, DatasetInfo, list_datasets, load_dataset

__all__ = ["BUILTIN_DATASETS", "Dataset", "DatasetInfo", "list_datasets", "load_dataset"]
