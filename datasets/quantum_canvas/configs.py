"""Builder configs of ``quantum_canvas``: element set, canvas spec, level of theory, splits."""

from __future__ import annotations

import dataclasses

import tensorflow_datasets as tfds

from qc_jax.canvas import CanvasSpec
from qc_jax.chem import settings as settings_lib
from qc_jax.elements import element_set, pairs

SETTINGS = {"default": settings_lib.DEFAULT, "fast": settings_lib.FAST}
"""Named levels of theory a config can use (:mod:`qc_jax.chem.settings`)."""

HALOGENS = ("F", "Cl", "Br", "I", "At")
"""Group 17: the elements the composition split holds out (those present in the config's set)."""

SPLIT_SEEDS = (42, 123, 456)
"""Seeds of the paper's random 80/10/10 splits; 42 gives ``train``/``validation``/``test``, the
others ``train_seed123`` ... ``test_seed456``."""


@dataclasses.dataclass(eq=False)
class QuantumCanvasConfig(tfds.core.BuilderConfig):
    """A ``quantum_canvas`` variant.

    Attributes:
      elements: an element-set name of :data:`qc_jax.elements.ELEMENT_SETS` (empty for
        ``official``, whose pairs come from the paper's npz).
      size: canvas height = width (pixels); the box is a fixed 8 Angstrom wide.
      settings: a key of :data:`SETTINGS` (level of theory of the pair records).
      channels: a channel set of :data:`qc_jax.canvas.CHANNEL_SETS`: ``physical`` (our
        fields) or ``stamps`` (the paper's population-stamp encoder fed with our populations,
        :mod:`qc_jax.stamps`: the control experiment).
      official: read the paper's published ``dataset_combined.npz`` instead of our records.
    """

    elements: str = ""
    size: int = 32
    settings: str = "default"
    channels: str = "physical"
    official: bool = False

    @property
    def spec(self) -> CanvasSpec:
        return CanvasSpec(height=self.size, width=self.size, channels=self.channels)

    @property
    def level_of_theory(self) -> settings_lib.Settings:
        return SETTINGS[self.settings]

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """The element pairs of the config, canonical order, sorted by pair name."""
        return pairs(self.elements)

    @property
    def held_out(self) -> tuple[str, ...]:
        """Elements held out by the composition split: the halogens of the element set."""
        return tuple(e for e in element_set(self.elements) if e in HALOGENS)

    def metadata(self) -> dict:
        """What the config records in ``info.metadata`` (JSON-ready)."""
        if self.official:
            return {"source": "QuantumCanvas dataset_combined.npz (DFTB+, PTBP; Zenodo "
                              "10.5281/zenodo.20631934)"}
        return {
            "elements": list(element_set(self.elements)),
            "canvas_spec": dataclasses.asdict(self.spec),
            "level_of_theory": self.level_of_theory.to_dict(),
            "settings_digest": self.level_of_theory.digest(),
            "split_seeds": list(SPLIT_SEEDS),
            "composition_held_out": list(self.held_out),
        }


def _describe(elements: str, spec: CanvasSpec) -> str:
    symbols = element_set(elements)
    n = len(symbols) * (len(symbols) + 1) // 2
    theory = settings_lib.DEFAULT
    shape = f"{spec.height}x{spec.width}x{spec.channel_set.count}"
    box = (f" in a fixed {spec.extent_angstrom:g} Angstrom box (pixel "
           f"{spec.extent_angstrom / spec.width:.3f} Angstrom, {spec.supersample}x"
           f"{spec.supersample} supersampling)")
    return (
        f"{n} pairs of the element set '{elements}' ({symbols[0]}..{symbols[-1]}, "
        f"{len(symbols)} elements, homonuclear included); canvases {shape}"
        f"{box if spec.channels != 'stamps' else ''}: {spec.channel_set.description}. "
        f"Level of theory: spin-polarised {theory.xc.upper()}-{theory.dispersion.upper()}/"
        f"{theory.basis_map} with Fermi smearing k_B T = {theory.smearing_sigma} Ha (one Fermi "
        "level for both spins, lowest spin state of several starts), optimised bond length "
        f"(PySCF; settings digest {theory.digest()[:16]}). Pairs whose SCF failed, and pairs "
        "that converged only at a raised k_B T, are left out; their names, reasons and count "
        "are in info.metadata['left_out']. Composition split holds out the halogens: "
        f"{', '.join(e for e in symbols if e in HALOGENS) or 'none'}."
    )


def _make(elements: str, size: int, channels: str = "physical") -> QuantumCanvasConfig:
    name = elements if size == 32 else f"{elements}_{size}"
    description = _describe(elements, CanvasSpec(height=size, width=size, channels=channels))
    if channels == "stamps":
        name += "_stamps"
        description += " Control variant: the same labels and splits as the physical canvases."
    return QuantumCanvasConfig(name=name, description=description, elements=elements,
                               size=size, channels=channels)


OFFICIAL = QuantumCanvasConfig(
    name="official",
    description=(
        "The QuantumCanvas paper's released data (dataset_combined.npz, 2,850 pairs, DFTB+ with "
        "PTBP parameters, CC-BY-4.0): its 10x32x32 population-stamp images transposed to "
        "[32, 32, 10], its 37 labels, geometries and Mulliken populations. Manual download."
    ),
    official=True,
)

CONFIGS: tuple[QuantumCanvasConfig, ...] = (
    *(_make(elements, size) for elements in ("tiny", "light", "paper75") for size in (32, 64)),
    *(_make(elements, 32, "stamps") for elements in ("tiny", "light", "paper75")),
    OFFICIAL,
)
"""``tiny``, ``tiny_64``, ``light``, ``light_64``, ``paper75``, ``paper75_64``, the stamp
controls ``tiny_stamps``, ``light_stamps``, ``paper75_stamps``, and ``official``."""
