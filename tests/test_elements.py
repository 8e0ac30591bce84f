"""Element sets, symbols <-> Z, pair names and canonical order."""

import pytest

from qc_jax.elements import (
    ELEMENT_SETS,
    UnknownElementError,
    atomic_number,
    canonical_order,
    element_set,
    pair_name,
    pairs,
    parse_pair,
    symbol,
)


def test_paper75_is_the_ptbp_set():
    elements = ELEMENT_SETS["paper75"]
    zs = [atomic_number(s) for s in elements]
    assert len(elements) == 75
    assert zs == [*range(1, 55), 55, 56, 57, 71, *range(72, 87), 88, 90]
    assert len(pairs("paper75")) == 75 * 76 // 2 == 2850


def test_small_sets():
    assert element_set("tiny") == ("H", "Li", "C", "N", "O", "F")
    assert element_set("light") == ("H", "He", "Li", "Be", "B", "C", "N", "O", "F", "Ne")
    assert len(pairs("light")) == 55


def test_user_lists_are_sorted_by_z_and_deduplicated():
    assert element_set("o,H,C,h") == ("H", "C", "O")
    assert element_set([8, "c", "O"]) == ("C", "O")
    assert element_set("Xe") == ("Xe",)


def test_symbols_and_numbers_round_trip():
    for z in range(1, 91):
        assert atomic_number(symbol(z)) == z
    assert symbol("co") == "Co"
    assert atomic_number(" Au ") == 79


def test_pair_names_are_alphabetical_and_geometry_order_is_by_z():
    assert pair_name("O", "C") == pair_name("C", "O") == "C_O"
    assert pair_name("H", "Ag") == "Ag_H"
    assert canonical_order("Ag", "H") == ("H", "Ag")
    assert parse_pair("Ag_H") == ("H", "Ag")
    names = [pair_name(*p) for p in pairs("tiny")]
    assert names == sorted(names) and len(set(names)) == 21
    assert all(atomic_number(a) <= atomic_number(b) for a, b in pairs("paper75"))


@pytest.mark.parametrize("bad", ["Xx", "", "11", "heavy", 0, 91])
def test_unknown_elements_raise(bad):
    with pytest.raises(UnknownElementError):
        element_set([bad]) if isinstance(bad, int) else element_set(bad)


def test_bad_pair_name():
    with pytest.raises(UnknownElementError):
        parse_pair("C_O_H")
