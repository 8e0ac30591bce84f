"""Per-element basis sets and ECPs: the named basis maps of the level of theory.

The default map ``"def2-svp"`` is def2-SVP with the def2 effective core potentials (ECPs for Z > 36)
for every element PySCF ships it for, plus:

- Lu: PySCF's def2-SVP file has no lanthanides (and silently drops the ECP when the basis comes from
  basis-set-exchange), so the def2-SVP basis and its ECP28MWB core for Lu are given here explicitly
  (text from the Basis Set Exchange 0.12, "Data from Turbomole 7.3", NWChem format).
- Ra, Th: no def2 basis exists; CRENBL basis with its CRENBL ECP (PySCF's ``crenbl``).

Any other PySCF basis name (``"sto-3g"``, ``"def2-tzvp"``, ...) is a map that uses that basis and
the ECP of the same name where PySCF has one, for every element.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from qc_jax.elements import symbol

DEFAULT_BASIS_MAP = "def2-svp"

LU_DEF2_SVP_BASIS = """\
Lu    S
  95170.170993               0.22048071918E-04
  15488.459998               0.14580380945E-03
   3776.2465986              0.65203151917E-03
   1079.0522042              0.20386734814E-02
    268.95400890             0.51271478497E-02
Lu    S
     63.480150654            1.0000000
Lu    S
     45.178236733            1.0000000
Lu    S
     21.463101062            1.0000000
Lu    S
      5.3501284738           1.0000000
Lu    S
      2.6784324209           1.0000000
Lu    S
      1.0286996374           1.0000000
Lu    S
      0.44065582250          1.0000000
Lu    S
      0.79102478336E-01      1.0000000
Lu    S
      0.31295760125E-01      1.0000000
Lu    P
     12.304490544           -0.15335298012
     11.051197278           -0.20411242014
      2.0069549241          -0.19274218978
Lu    P
    489.41244804            -0.59172755508E-02
    133.95373952            -0.17374475216E-01
     45.499231322           -0.35436272607E-01
     15.561271894            0.23702673982
      5.8487824789          -0.30715978024
Lu    P
      3.7750599965           1.0000000
Lu    P
      1.1351251245           1.0000000
Lu    P
      0.40414348915          1.0000000
Lu    P
      0.81876438258E-01      1.0000000
Lu    P
      0.29091071778E-01      1.0000000
Lu    D
    487.98257108             0.22003768687E-02
    146.93406718             0.17961502146E-01
     55.761579916            0.74133589068E-01
     22.898741759            0.16158924962
      9.1045787832           0.30816877026
      4.1457846324           0.44860151987
Lu    D
      1.7383363795           1.0000000
Lu    D
      0.47338644306          1.0000000
Lu    D
      0.12126581102          1.0000000
Lu    F
    110.27466442             0.10473142686E-01
     41.223249497            0.75005497458E-01
     17.728967182            0.20262004978
      7.4262392641           0.30601327947
      3.0434594520           0.29349093032
Lu    F
      1.1752462623           1.0000000
Lu    F
      0.38920482897          1.0000000
Lu    G
      0.70090000000          1.0000000
"""
"""def2-SVP basis of Lu (10s7p4d3f1g), for use with ``LU_ECP28MWB``."""

LU_ECP28MWB = """\
Lu nelec 28
Lu ul
2       1.00000000             0.00000000
Lu S
2      35.16209700           989.99558400
Lu P
2      19.46440200           278.86565200
Lu D
2      10.00686500            71.00917800
Lu F
2      23.51793200           -47.40589000
Lu G
2      29.41223800           -35.55714600
"""
"""Stuttgart-Koeln small-core (28 electron) quasi-relativistic ECP of Lu (the def2 ECP)."""


class MissingBasisError(ValueError):
    """The chosen basis map has no basis set for an element."""


@dataclass(frozen=True)
class BasisSpec:
    """Basis and ECP of one element, in a form PySCF's ``Mole`` accepts and JSON can store.

    ``basis`` and ``ecp`` are PySCF basis/ECP names or NWChem-format text; ``ecp`` is ``""`` for an
    all-electron element.
    """

    basis: str
    ecp: str = ""


_EXPLICIT: dict[str, dict[str, BasisSpec]] = {
    "def2-svp": {
        "Lu": BasisSpec(LU_DEF2_SVP_BASIS, LU_ECP28MWB),
        "Ra": BasisSpec("crenbl", "crenbl"),
        "Th": BasisSpec("crenbl", "crenbl"),
    },
}


def basis_spec(element: str, basis_map: str = DEFAULT_BASIS_MAP) -> BasisSpec:
    """The basis and ECP of ``element`` in ``basis_map``; raises :class:`MissingBasisError`."""
    return _basis_spec(symbol(element), basis_map.lower())


@cache
def _basis_spec(element: str, basis_map: str) -> BasisSpec:
    import warnings

    from pyscf import gto

    explicit = _EXPLICIT.get(basis_map, {}).get(element)
    if explicit is not None:
        return explicit
    try:
        with warnings.catch_warnings():  # PySCF suggests installing basis-set-exchange
            warnings.simplefilter("ignore")
            if not gto.basis.load(basis_map, element):
                raise KeyError(element)
    except Exception:  # PySCF raises several types (KeyError, BasisNotFoundError, RuntimeError)
        raise MissingBasisError(f"basis map {basis_map!r} has no basis for {element}") from None
    try:
        has_ecp = bool(gto.basis.load_ecp(basis_map, element))
    except Exception:  # no ECP file of that name: all-electron
        has_ecp = False
    return BasisSpec(basis_map, basis_map if has_ecp else "")


def pyscf_basis(spec: BasisSpec, element: str) -> tuple[object, object | None]:
    """``(basis, ecp)`` for ``Mole.basis[element]`` and ``Mole.ecp[element]``: names are passed
    through, NWChem text is parsed; ``ecp`` is None for an all-electron element."""
    from pyscf import gto

    basis = gto.basis.parse(spec.basis, element) if "\n" in spec.basis else spec.basis
    if not spec.ecp:
        return basis, None
    return basis, gto.basis.parse_ecp(spec.ecp, element) if "\n" in spec.ecp else spec.ecp
