"""The generated data card: counts, basis table and labels of real (dummy-store) records."""

import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import quantum_canvas
from quantum_canvas import data_card

from qc_jax.chem.settings import DEFAULT
from qc_jax.compact import ship
from qc_jax.elements import element_set
from qc_jax.store import Store

DUMMY_STORE = Path(quantum_canvas.__file__).parent / "dummy_data" / "store"


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    shipped = tmp_path_factory.mktemp("shipped")
    ship(Store(DUMMY_STORE, DEFAULT), shipped)
    return data_card.shipped_card(shipped, "tiny")


def test_card_counts_every_pair_once(section):
    assert "21 of 21 pairs computed and shipped (100.0%); 21 in the dataset" in section
    assert "| H to F | def2-svp | none (all-electron) |" in section
    spins = re.search(r"\*\*Spin states\*\*[^:]*: (.*);", section).group(1)
    assert sum(int(n) for n in re.findall(r"(\d+) \w+", spins)) == 21


def test_label_statistics_are_those_of_the_records(section):
    gaps = [r.labels["e_g_ev"] for r in Store(DUMMY_STORE, DEFAULT).records()]
    assert f"| `e_g_ev` | {np.mean(gaps):.3g} ± {np.std(gaps):.3g}" in section


def test_the_cost_is_that_of_the_records(section):
    cpu = {r.pair: r.cpu_time_s for r in Store(DUMMY_STORE, DEFAULT).records()}
    costliest = sorted(cpu.values())[-2:]  # a tenth of 21 pairs
    assert f"{sum(cpu.values()) / 3600:.1f} CPU-hours for these 21 pairs" in section
    assert f"costliest tenth of the pairs took {100 * sum(costliest) / sum(cpu.values()):.0f} %" \
        in section
    hours = {e: sum(t / 2 / 3600 * name.split("_").count(e) for name, t in cpu.items())
             for e in element_set("tiny")}
    top = max(hours, key=hours.get)
    assert f"time): {top} {hours[top]:.2g} h, " in section


def test_the_gap_s_difficulty_is_that_of_the_records(section):
    records = list(Store(DUMMY_STORE, DEFAULT).records())
    assert "Fewer than half of the gaps are zero." in section  # tiny: light, mostly gapped
    # a metal-like majority, as in paper75: every zero gap and the three smallest others
    zero = [r for r in records if r.labels["e_g_ev"] == 0]
    others = sorted((r for r in records if r.labels["e_g_ev"] > 0),
                    key=lambda r: r.labels["e_g_ev"])
    assert len(zero) > 3
    assert data_card._gap_as_a_target(zero).endswith("Every gap is zero.")
    assert data_card._gap_as_a_target([]).endswith("No pairs yet.")
    text = data_card._gap_as_a_target(zero + others[:3])
    small = [r.labels["e_g_ev"] for r in others[:3]]
    n = len(zero) + 3
    # the constant (0) misses each pair by its gap; the told predictor misses the three
    # non-zero gaps by their distance from the middle one, the zero ones not at all
    constant, told = sum(small) / n, (small[2] - small[0]) / n
    assert f"MAE {constant:.3f} eV" in text
    assert f"({small[1]:.2f} eV), has MAE {told:.3f} eV, skill ratio {told / constant:.2f}" in text


def test_basis_table_names_the_ecp_cores():
    table = data_card.basis_table(["Kr", "Rb", "Xe", "Cs", "Lu", "Hf", "Th"], "def2-svp")
    assert "| Rb to Xe | def2-svp | 28 |" in table and "| Hf | def2-svp | 60 |" in table
    assert "| Kr | def2-svp | none (all-electron) |" in table and "| Th | crenbl | 78 |" in table


def test_write_replaces_only_the_generated_section(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("intro\n")
    data_card.write("first", readme)
    data_card.write("second", readme)
    text = readme.read_text()
    assert text.startswith("intro\n") and "second" in text and "first" not in text
    assert text.count(data_card.BEGIN) == 1


def test_missing_labels_are_counted(section, tmp_path):
    shutil.copytree(DUMMY_STORE, tmp_path / "store")
    store = Store(tmp_path / "store", DEFAULT)
    c_o = store.load("C_O")
    store.put(replace(c_o, labels={**c_o.labels, "a_ev": float("nan")}))
    ship(store, tmp_path / "shipped")
    assert "Labels missing" not in section
    assert "in the pairs of the dataset: `a_ev` 1." in data_card.shipped_card(
        tmp_path / "shipped", "tiny")
