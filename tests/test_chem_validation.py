"""Default level of theory against experiment (slow: about 5-10 CPU minutes).

R_e and omega_e of closed-shell diatomics (Huber-Herzberg, see qc_jax.chem.experiment). PBE with a
double-zeta basis typically gives bond lengths within a few hundredths of an Angstrom and harmonic
wavenumbers within several percent (measured here: MAE 0.031 Angstrom and 4.3 %, worst Li2 +0.11
Angstrom and Cl2 -12 %, see docs/chemistry.md); the tolerances leave a margin above that.
"""

import numpy as np
import pytest

from qc_jax.chem.experiment import EXPERIMENT
from qc_jax.chem.runner import compute_missing
from qc_jax.chem.settings import DEFAULT
from qc_jax.store import Store

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("validation"), DEFAULT)
    summary = compute_missing(store, [(m.a, m.b) for m in EXPERIMENT], jobs=2, progress=False)
    assert summary.counts["ok"] == len(EXPERIMENT), summary.text()
    return store


def test_bond_lengths_and_frequencies_match_experiment(store):
    r_errors, w_errors = [], []
    for m in EXPERIMENT:
        labels = store.load(m.a, m.b).labels
        r_errors.append(labels["distance_ang"] - m.r_e_ang)
        w_errors.append((labels["omega_e_cm1"] - m.omega_e_cm1) / m.omega_e_cm1)
    r_errors, w_errors = np.abs(r_errors), np.abs(w_errors)
    assert r_errors.max() < 0.15 and np.mean(r_errors) < 0.04
    assert w_errors.max() < 0.15 and np.mean(w_errors) < 0.06
