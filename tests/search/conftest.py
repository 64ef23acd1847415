"""Fixtures of the search tests (graph helpers live in search_graphs.py)."""

from __future__ import annotations

import pytest

from cost_models import get_cost_model


@pytest.fixture(scope="session")
def model():
    return get_cost_model("analytical")
