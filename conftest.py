"""Tests see no shipped records unless they ask for them (``shipped_dir``): what the package
ships grows with every batch of the paper75 compute, and a test of the store, the computation or
a build must not change with it (tests/test_compact.py checks the shipped records themselves)."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def no_shipped_records(tmp_path_factory):
    from quantum_canvas.records import SHIPPED_VARIABLE

    patch = pytest.MonkeyPatch()
    patch.setenv(SHIPPED_VARIABLE, str(tmp_path_factory.getbasetemp() / "no_shipped"))
    yield
    patch.undo()
