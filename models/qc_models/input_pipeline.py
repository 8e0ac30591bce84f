"""Input pipeline: examples -> in-memory arrays -> normalised, padded batches.

A dataset is a dict of numpy arrays with one leading example axis; these are the features of the
TFDS dataset `quantum_canvas` (and of `synthetic_dataset`, which imitates it for tests):

=====================  ================  ===================================================
key                    dtype, shape      meaning
=====================  ================  ===================================================
canvas                 float32 [H, W, C] the quantum canvas (C: the channels of the dataset's
                                         channel set, qc_jax.canvas.CHANNEL_SETS: 10 for
                                         physical and stamps, 11 for physical_spin; H = W = 32
                                         by default)
positions              float32 [2, 3]    atom positions in Angstrom; bond along z, atom 0 is
                                         the lower atomic number, at z = -R/2
atomic_numbers         int32 [2]         Z of the two atoms (Z_0 <= Z_1)
generating_scalars     float32 [S]       the per-pair scalars the paper's images were drawn
                                         from (S = 6: Mulliken populations N_0, N_1 (e),
                                         Mulliken charges q_0, q_1 (e), dipole magnitude
                                         (Debye), bond length (Angstrom)); input of the
                                         scalar-MLP baseline only
<label>                float32 []        one scalar per label, named as in the paper:
                                         e_g_ev, e_homo_ev, total_energy_ev, dipole_mag_d,
                                         distance_ang, ...; NaN where the pair has no such
                                         label (e.g. i_ev when an ion's SCF did not converge)
=====================  ================  ===================================================

Energies that grow with the atoms (`ATOM_REFERENCED`: the total and band energies) are learned as
residuals from a per-element additive reference, sum over the atoms of e[Z], fitted by least
squares on the training split (`fit_atom_reference`; SchNetPack's atom references, nequip's
per-species shifts): the free atoms carry all but a few eV of a total energy of up to 10^5 eV.

A missing label is masked per example and target: the normaliser's statistics use the finite
labels only, and model-ready arrays carry `target_mask` [N, T] (1 where the label is finite) next
to `targets` [N, T], which hold 0 for a missing label, never NaN, and `target_censored` [N, T]
(1 where a label that is non-negative by definition is 0: the loss counts only a prediction above
it as an error, `steps.masked_loss`).

Sources of examples (TFDS through `tfds.data_source`, or these arrays) and the per-process batch
pipelines are in `qc_models.sources`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from qc_jax.chem.labels import NON_NEGATIVE
from qc_jax.splits import PAPER_FRACTIONS, seeded_parts
from qc_models.configs.base import ATOM_REFERENCED

Dataset = dict[str, np.ndarray]

#: Features the models read (targets are read by name from the config).
INPUT_KEYS = ("canvas", "positions", "atomic_numbers", "generating_scalars")


# --------------------------------------------------------------------------- sources


def stack_examples(examples: Iterable[Mapping[str, np.ndarray]], keys: Sequence[str]) -> Dataset:
    """Stacks an iterable of example dicts (e.g. `tfds.as_numpy(ds)`) into a `Dataset`.

    Scalars become float32 [N] (int32 for integer features), arrays gain a leading axis N.
    """
    columns: dict[str, list] = {k: [] for k in keys}
    for example in examples:
        for k in keys:
            columns[k].append(np.asarray(example[k]))
    out = {}
    for k, values in columns.items():
        array = np.stack(values)
        out[k] = array.astype(np.int32 if np.issubdtype(array.dtype, np.integer) else np.float32)
    return out


def synthetic_dataset(num_examples: int, *, canvas_size: int = 32, seed: int = 0) -> Dataset:
    """Physically structured fake data with the dataset's features, for tests and benchmarks.

    Atom pairs (Z <= 86) get a bond length from radius-like functions of Z, charges from an
    electronegativity-like function, and energies, gap and dipole from those; the canvas holds
    Gaussian blobs at the real atom positions (12 Angstrom box) whose amplitudes and widths depend
    on Z and the charges, plus a bond blob whose weight decays with R. So every label is a smooth
    function of the inputs that a model can learn, and geometric models can read R directly.
    As in the dataset, `softness_evinv` = 1 / eta (eta = gap / 2 here) is a partly labelled
    target: NaN where the gap is zero.
    """
    rng = np.random.default_rng(seed)
    z = np.sort(rng.integers(1, 87, size=(num_examples, 2)), axis=1)
    period = np.searchsorted(np.array([2, 10, 18, 36, 54, 86]), z) + 1
    period_start = np.array([0, 0, 2, 10, 18, 36, 54])[period]
    frac = (z - period_start) / np.array([0, 2, 8, 8, 18, 18, 32])[period]
    chi = 0.8 + 3.0 * frac**1.5 / np.sqrt(period)
    radius = 0.25 + 0.22 * period - 0.25 * frac
    distance = radius.sum(1) + 0.05 * rng.standard_normal(num_examples)
    q1 = 0.3 * np.tanh(chi[:, 0] - chi[:, 1])
    charges = np.stack([q1, -q1], axis=1)
    populations = z - charges
    dipole = 4.803 * np.abs(q1) * distance
    gap = np.maximum(0.0, 2.0 * np.abs(chi[:, 1] - chi[:, 0]) + 3.0 / distance - 2.0)
    homo = -2.0 * chi.mean(1) - 3.0 - 0.5 * gap
    total = -13.6 * (z**0.7).sum(1) - 4.0 / distance - 2.0 * np.abs(q1)
    with np.errstate(divide="ignore"):
        softness = np.where(gap > 0, 2.0 / gap, np.nan)

    positions = np.zeros((num_examples, 2, 3))
    positions[:, 0, 2], positions[:, 1, 2] = -distance / 2, distance / 2
    axis = np.linspace(-6.0, 6.0, canvas_size)
    xx, zz = np.meshgrid(axis, axis, indexing="ij")  # rows along x, columns along z

    def blob(center_z, width):
        d2 = xx**2 + (zz - center_z[:, None, None]) ** 2
        return np.exp(-0.5 * d2 / width[:, None, None] ** 2)

    widths = np.array([1.0, 0.6, 0.8, 1.2, 0.5, 1.5, 0.7, 1.1, 0.9, 0.9])
    canvas = np.zeros((num_examples, canvas_size, canvas_size, 10))
    for atom in range(2):
        amplitudes = np.stack(
            [
                np.sqrt(z[:, atom]),
                np.maximum(z[:, atom] - 20, 0) / 20,
                chi[:, atom],
                frac[:, atom],
                period[:, atom] / 3,
                0.5 + 0.3 * np.tanh(chi[:, atom] - 2),
                np.zeros(num_examples),
                np.abs(charges[:, atom]) * 5,
                np.maximum(-charges[:, atom], 0) * 5,
                np.maximum(charges[:, atom], 0) * 5,
            ],
            axis=-1,
        )
        for c in range(10):
            canvas[..., c] += amplitudes[:, c, None, None] * blob(
                positions[:, atom, 2], widths[c] * radius[:, atom]
            )
    canvas[..., 6] = np.exp(-distance)[:, None, None] * blob(np.zeros(num_examples), 0.5 * distance)

    f32 = np.float32
    return {
        "canvas": canvas.astype(f32),
        "positions": positions.astype(f32),
        "atomic_numbers": z.astype(np.int32),
        "generating_scalars": np.concatenate(
            [populations, charges, dipole[:, None], distance[:, None]], axis=1
        ).astype(f32),
        "e_g_ev": gap.astype(f32),
        "e_homo_ev": homo.astype(f32),
        "e_lumo_ev": (homo + gap).astype(f32),
        "total_energy_ev": total.astype(f32),
        "dipole_mag_d": dipole.astype(f32),
        "distance_ang": distance.astype(f32),
        "softness_evinv": softness.astype(f32),
    }


# --------------------------------------------------------------------------- splits


def num_examples(data: Dataset) -> int:
    return len(next(iter(data.values())))


def take(data: Dataset, indices: np.ndarray) -> Dataset:
    return {k: v[indices] for k, v in data.items()}


def random_split(
    data: Dataset, fractions: Sequence[float] = PAPER_FRACTIONS, seed: int = 42
) -> dict[str, Dataset]:
    """The paper's seeded random train/validation/test split (fractions of the examples;
    :func:`qc_jax.splits.seeded_parts`)."""
    parts = seeded_parts(num_examples(data), seed, fractions)
    names = ("train", "validation", "test")
    return {name: take(data, idx) for name, idx in zip(names, parts, strict=True)}


# --------------------------------------------------------------------------- normalisation

#: Rows of a per-element table: atomic numbers 0..118.
NUM_ELEMENTS = 119


def element_counts(atomic_numbers: np.ndarray) -> np.ndarray:
    """[N, NUM_ELEMENTS] float64: how many atoms of each element the examples [N, A] hold."""
    counts = np.zeros((len(atomic_numbers), NUM_ELEMENTS))
    np.add.at(counts, (np.arange(len(atomic_numbers))[:, None], atomic_numbers), 1.0)
    return counts


def fit_atom_reference(y: np.ndarray, atomic_numbers: np.ndarray) -> np.ndarray:
    """[T, NUM_ELEMENTS] per-element values e[t, Z] whose sums over each example's atoms fit the
    targets y [N, T] best in least squares, over each target's finite labels (the minimum-norm
    solution: 0 for an element that no labelled example holds). Units: the target's, per atom.
    """
    counts = element_counts(atomic_numbers)
    reference = np.zeros((y.shape[1], NUM_ELEMENTS))
    for t in range(y.shape[1]):
        rows = np.isfinite(y[:, t])
        reference[t] = np.linalg.lstsq(counts[rows], y[rows, t], rcond=None)[0]
    return reference


def atom_sums(reference: np.ndarray, atomic_numbers: np.ndarray) -> np.ndarray:
    """[N, T]: the per-element values reference [T, NUM_ELEMENTS] summed over the atoms [N, A] of
    each example."""
    return reference[:, atomic_numbers].sum(-1).T


def canvas_moments(canvas: np.ndarray) -> np.ndarray:
    """[3, C] float64: count, sum and sum of squares of each channel of canvases [N, H, W, C]."""
    x = canvas.astype(np.float64).reshape(-1, canvas.shape[-1])
    return np.stack([np.full(x.shape[1], float(len(x))), x.sum(0), (x**2).sum(0)])


def permute_pixels(canvas: np.ndarray, seed: int) -> np.ndarray:
    """Canvases [N, H, W, C] with their H*W pixels reordered by one permutation drawn from `seed`,
    the same for every canvas and channel (values and per-channel statistics unchanged)."""
    n, height, width, channels = canvas.shape
    order = np.random.default_rng(seed).permutation(height * width)
    return canvas.reshape(n, height * width, channels)[:, order].reshape(canvas.shape)


@dataclasses.dataclass
class Normalizer:
    """Affine maps of targets and inputs, fitted on the training split only.

    Targets are scaled per target to y' = (y - center) / scale ("minmax": [-1, 1] on the training
    split as in the paper; "standard": zero mean, unit variance), fitted on the finite labels of
    each target (a missing label, NaN, is left out of that target's statistics only; a target
    without any finite training label is refused). Canvas channels are divided by
    their training standard deviation; generating scalars are standardised. A target of
    `referenced` is learned as its residual from a per-element reference fitted on the training
    split (`fit_atom_reference`), and center and scale are those of the residuals. With
    `pixel_permutation_seed` every canvas also has its pixels moved by one fixed permutation
    (`permute_pixels`; the control that asks whether the spatial layout carries information).
    """

    targets: tuple[str, ...]
    center: np.ndarray  # [T]
    scale: np.ndarray  # [T]
    median: np.ndarray  # [T], training median of the finite labels, physical units
    canvas_scale: np.ndarray  # [C]
    scalars_mean: np.ndarray  # [S]
    scalars_std: np.ndarray  # [S]
    pixel_permutation_seed: int | None = None
    #: [T, NUM_ELEMENTS] per-element reference, the target's unit per atom (zero rows: targets
    #: learned as they are); None: no target has one
    atom_reference: np.ndarray | None = None

    @classmethod
    def fit(
        cls,
        train: Dataset,
        targets: Sequence[str],
        method: str = "minmax",
        referenced: Sequence[str] = ATOM_REFERENCED,
    ) -> Normalizer:
        """Fitted on the arrays of a whole training split held in memory."""
        moments = canvas_moments(train["canvas"])
        return cls.from_statistics(train, moments, targets, method, referenced)

    @classmethod
    def from_statistics(
        cls,
        columns: Dataset,
        moments: np.ndarray,
        targets: Sequence[str],
        method: str = "minmax",
        referenced: Sequence[str] = ATOM_REFERENCED,
    ) -> Normalizer:
        """From the training split's target, atom and generating-scalar columns and canvas
        moments.

        columns: the targets [N], `atomic_numbers` [N, A] and `generating_scalars` [N, S] of every
        training example; moments: [3, C] count, sum and sum of squares of each canvas channel
        (`canvas_moments`); referenced: the targets learned as residuals from a per-element
        reference (those of them not in `targets` are ignored).
        """
        y = np.stack([columns[t] for t in targets], axis=1).astype(np.float64)
        y[~np.isfinite(y)] = np.nan  # a missing label, left out of its target's statistics
        unlabelled = [t for t, n in zip(targets, np.isfinite(y).sum(0), strict=True) if n == 0]
        if unlabelled:
            raise ValueError(
                f"no finite label of {', '.join(map(repr, unlabelled))} in the training split "
                f"({len(y)} examples): nothing to fit or train on; leave the target out"
            )
        bounded = sorted(set(referenced) & set(targets) & NON_NEGATIVE)
        if bounded:
            raise ValueError(
                f"{', '.join(bounded)} cannot have an atom reference: non-negative by definition, "
                "its predictions are clipped at 0, not at a per-pair reference"
            )
        median = np.nanmedian(y, axis=0)
        reference = None
        if any(t in referenced for t in targets):
            used = np.array([t in referenced for t in targets])
            reference = fit_atom_reference(y, columns["atomic_numbers"]) * used[:, None]
            y = y - atom_sums(reference, columns["atomic_numbers"])
        if method == "minmax":
            lo, hi = np.nanmin(y, 0), np.nanmax(y, 0)
            center, scale = (hi + lo) / 2, (hi - lo) / 2
        elif method == "standard":
            center, scale = np.nanmean(y, 0), np.nanstd(y, 0)
        else:
            raise ValueError(f"unknown target scaling {method!r}")
        scalars = columns["generating_scalars"].astype(np.float64)
        count, total, squares = moments
        variance = np.maximum(squares / count - (total / count) ** 2, 0.0)
        return cls(
            targets=tuple(targets),
            center=center,
            scale=np.where(scale > 0, scale, 1.0),
            median=median,
            canvas_scale=np.maximum(np.sqrt(variance), 1e-6),
            scalars_mean=scalars.mean(0),
            scalars_std=np.maximum(scalars.std(0), 1e-6),
            atom_reference=reference,
        )

    def to_dict(self) -> dict:
        return {
            k: (v.tolist() if isinstance(v, np.ndarray) else v)
            for k, v in dataclasses.asdict(self).items()
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Normalizer:
        def value(k, v):
            return tuple(v) if k == "targets" else np.asarray(v) if isinstance(v, list) else v

        return cls(**{k: value(k, v) for k, v in d.items()})

    def reference(self, atomic_numbers: np.ndarray) -> np.ndarray:
        """[N, T] float64, each target's atom reference summed over the atoms [N, A] of each
        example (0 for the targets without one)."""
        if self.atom_reference is None:
            return np.zeros((len(atomic_numbers), len(self.targets)))
        return atom_sums(self.atom_reference, atomic_numbers)

    def scale_targets(self, y: np.ndarray, atomic_numbers: np.ndarray) -> np.ndarray:
        """Physical targets [N, T] of the examples with atoms [N, A] -> scaled float32 [N, T]."""
        return ((y - self.reference(atomic_numbers) - self.center) / self.scale).astype(np.float32)

    def unscale_targets(self, y: np.ndarray, atomic_numbers: np.ndarray) -> np.ndarray:
        """Scaled targets or predictions [N, T] -> physical float64 [N, T]."""
        return y * self.scale + self.center + self.reference(atomic_numbers)

    @property
    def non_negative(self) -> np.ndarray:
        """[T] bool: the targets that are non-negative by definition (`NON_NEGATIVE`)."""
        return np.array([t in NON_NEGATIVE for t in self.targets], dtype=bool)

    def clip_predictions(self, y: np.ndarray) -> np.ndarray:
        """Scaled predictions [N, T], each target that is non-negative by definition
        (`qc_jax.chem.labels.NON_NEGATIVE`: the gap, the dipole magnitude, ...) raised to its
        scaled 0 where below it. A zero-inflated target such as the gap (0 for every metal-like
        pair) is then predicted exactly 0 wherever the model predicts 0 or less."""
        floor = np.where(self.non_negative, -self.center / self.scale, -np.inf)
        return np.maximum(y, floor.astype(y.dtype))

    def __call__(self, data: Dataset) -> Dataset:
        """Model-ready arrays: normalised inputs and, when `data` has the labels, `targets`
        float32 [N, T] (scaled; 0 where the label is missing), `target_mask` float32 [N, T]
        (1 where the label is finite, 0 where it is missing) and `target_censored` float32
        [N, T] (1 where a label of `NON_NEGATIVE` is 0)."""
        canvas = data["canvas"]
        if self.pixel_permutation_seed is not None:
            canvas = permute_pixels(canvas, self.pixel_permutation_seed)
        inputs = {
            "canvas": (canvas / self.canvas_scale).astype(np.float32),
            "positions": data["positions"].astype(np.float32),
            "atomic_numbers": data["atomic_numbers"].astype(np.int32),
            "generating_scalars": (
                (data["generating_scalars"] - self.scalars_mean) / self.scalars_std
            ).astype(np.float32),
        }
        if all(t in data for t in self.targets):
            y = np.stack([data[t] for t in self.targets], 1)
            labelled = np.isfinite(y)
            scaled = self.scale_targets(y, data["atomic_numbers"])
            inputs["targets"] = np.where(labelled, scaled, np.float32(0))
            inputs["target_mask"] = labelled.astype(np.float32)
            censored = labelled & self.non_negative & (y == 0)
            inputs["target_censored"] = censored.astype(np.float32)
        return inputs
