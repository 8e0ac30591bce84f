"""Chemical elements, the named element sets and the enumeration of element pairs.

Light module (no PySCF, no JAX): symbols <-> atomic numbers, the paper's 75-element set and small
sets for tests and demos, and the canonical pair order used everywhere in the project: a pair is
named ``"A_B"`` with the two symbols in alphabetical order (as the paper's directories), while the
geometry puts the atom with the lower atomic number first (at z = -R/2; docs/canvas.md).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence

SYMBOLS: tuple[str, ...] = (
    "H", "He",
    "Li", "Be", "B", "C", "N", "O", "F", "Ne",
    "Na", "Mg", "Al", "Si", "P", "S", "Cl", "Ar",
    "K", "Ca", "Sc", "Ti", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn",
    "Ga", "Ge", "As", "Se", "Br", "Kr",
    "Rb", "Sr", "Y", "Zr", "Nb", "Mo", "Tc", "Ru", "Rh", "Pd", "Ag", "Cd",
    "In", "Sn", "Sb", "Te", "I", "Xe",
    "Cs", "Ba", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm",
    "Yb", "Lu", "Hf", "Ta", "W", "Re", "Os", "Ir", "Pt", "Au", "Hg",
    "Tl", "Pb", "Bi", "Po", "At", "Rn",
    "Fr", "Ra", "Ac", "Th",
)  # fmt: skip
"""Element symbols for Z = 1 .. 90 (index = Z - 1)."""

_Z_OF = {s.lower(): z for z, s in enumerate(SYMBOLS, start=1)}


class UnknownElementError(ValueError):
    """An element symbol, atomic number or element-set name that the project does not know."""


def atomic_number(symbol: str | int) -> int:
    """Atomic number of an element symbol (case-insensitive); an int is checked and returned."""
    if isinstance(symbol, int):
        if 1 <= symbol <= len(SYMBOLS):
            return symbol
        raise UnknownElementError(f"atomic number {symbol} is outside 1..{len(SYMBOLS)}")
    try:
        return _Z_OF[symbol.strip().lower()]
    except (KeyError, AttributeError):
        raise UnknownElementError(f"unknown element symbol {symbol!r}") from None


def symbol(z_or_symbol: int | str) -> str:
    """Canonical symbol (``"Co"``) of an atomic number or of a symbol in any case."""
    return SYMBOLS[atomic_number(z_or_symbol) - 1]


def _z_range(first: int, last: int) -> tuple[str, ...]:
    return tuple(SYMBOLS[z - 1] for z in range(first, last + 1))


ELEMENT_SETS: dict[str, tuple[str, ...]] = {
    # The PTBP set of the QuantumCanvas paper: Z 1-54, Cs, Ba, La, Lu, Hf-Rn, Ra, Th (75 elements).
    "paper75": (*_z_range(1, 54), "Cs", "Ba", "La", "Lu", *_z_range(72, 86), "Ra", "Th"),
    "tiny": ("H", "Li", "C", "N", "O", "F"),
    "light": _z_range(1, 10),
}
"""Named element sets, each in order of atomic number."""


def element_set(spec: str | Iterable[str | int]) -> tuple[str, ...]:
    """Resolve an element set: a name of ``ELEMENT_SETS``, a comma-separated list of symbols
    (``"H,C,O"``) or an iterable of symbols/atomic numbers. Returns canonical symbols sorted by Z,
    without duplicates."""
    if isinstance(spec, str):
        if spec in ELEMENT_SETS:
            return ELEMENT_SETS[spec]
        if "," not in spec and len(spec) > 2:
            raise UnknownElementError(
                f"unknown element set {spec!r}; named sets: {', '.join(ELEMENT_SETS)} "
                "(or give a comma-separated list of symbols)"
            )
        spec = [s for s in spec.split(",") if s.strip()]
    zs = sorted({atomic_number(s) for s in spec})
    if not zs:
        raise UnknownElementError("empty element list")
    return tuple(SYMBOLS[z - 1] for z in zs)


def canonical_order(a: str | int, b: str | int) -> tuple[str, str]:
    """The two symbols in geometry order: lower atomic number first (atom A at z = -R/2)."""
    sa, sb = symbol(a), symbol(b)
    return (sa, sb) if atomic_number(sa) <= atomic_number(sb) else (sb, sa)


def pair_name(a: str | int, b: str | int) -> str:
    """Paper-style pair name: both symbols in alphabetical order joined by ``_`` (``"C_O"``)."""
    return "_".join(sorted((symbol(a), symbol(b))))


def parse_pair(text: str) -> tuple[str, str]:
    """A diatomic written in any accepted form -> its two symbols in geometry order: a pair name
    ('C_O', the inverse of :func:`pair_name`; 'O_C') or a formula ('CO', 'Fe2', 'NaCl'). The one
    parser of pair names of the package. Raises UnknownElementError."""
    if "_" in text:
        symbols = text.split("_")
    else:
        tokens = re.findall(r"([A-Z][a-z]?)(\d*)", text)
        symbols = [element for element, count in tokens for _ in range(int(count or 1))]
        if "".join(s + c for s, c in tokens) != text:
            symbols = []
    if len(symbols) != 2:
        raise UnknownElementError(
            f"{text!r} is not a diatomic (write e.g. CO, C_O, Fe2 or NaCl)"
        )
    return canonical_order(*symbols)


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """Comma-separated diatomics ('CO,H2,Fe_Fe') -> pairs in geometry order."""
    return [parse_pair(name.strip()) for name in text.split(",") if name.strip()]


def pairs(elements: str | Sequence[str | int]) -> list[tuple[str, str]]:
    """All unordered pairs of an element set, homonuclear included (n (n + 1) / 2 pairs), each in
    canonical (geometry) order, listed in the order of their pair names."""
    symbols = element_set(elements)
    found = [canonical_order(a, b) for a, b in itertools.combinations_with_replacement(symbols, 2)]
    return sorted(found, key=lambda ab: pair_name(*ab))
