"""How the records of the same pairs differ between two sets of records: a store computed again
against the shipped records (``qc-canvas ship --replace``), or the shipped records at two commits
(``benchmarks/shipped_changes.py``). The Markdown table is the one docs/chemistry.md quotes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from qc_jax.record import PairRecord

SAME_STATE_MEV = 1.0
"""Free energies within this (meV) count as the same state."""


class Records(Protocol):
    """A set of records by pair name: a :class:`qc_jax.store.Store` or
    :class:`qc_jax.compact.ShippedRecords`."""

    def get(self, name: str) -> PairRecord | None: ...


def record_changes(now: Records, before: Records, names: Iterable[str],
                   labels: Sequence[str] = ()) -> str:
    """Markdown table of the pairs ``names`` in both sets, sorted by the change of the Mermin
    free energy F (meV, ``now`` minus ``before``), with status, spin moment 2S = |N_alpha -
    N_beta|, bond length (Angstrom), binding energy (eV) and CPU seconds of each, and the
    ``labels`` named (now/before: ``i_ev,a_ev`` shows the ions that converge now); then the pairs
    not compared and why (absent, no labels, or another k_B T, at which -TS differs), and the
    count lower, higher and the same within :data:`SAME_STATE_MEV`."""
    rows, skipped = [], []
    for name in names:
        new, old = now.get(name), before.get(name)
        if new is None or old is None:
            skipped.append(f"{name}: not compared, absent {'now' if new is None else 'before'}")
        elif not (new.labels and old.labels):
            when, record = ("now", new) if not new.labels else ("before", old)
            skipped.append(f"{name}: not compared, no labels {when} ({record.reason})")
        elif new.labels["smearing_sigma_ev"] != old.labels["smearing_sigma_ev"]:
            skipped.append(f"{name}: not compared, k_B T {new.labels['smearing_sigma_ev']:.3f} eV "
                           f"now, {old.labels['smearing_sigma_ev']:.3f} eV before")
        else:
            rows.append((_free_energy_mev(new) - _free_energy_mev(old), name, new, old))
    lines = ["| pair | Delta F (meV) | status now/before | 2S now/before | Delta R_e (A) | "
             "Delta E_bind (eV) | CPU-s now/before |"
             + "".join(f" `{label}` now/before |" for label in labels),
             "|---|---:|---|---|---:|---:|---:|" + "---|" * len(labels)]
    for change, name, new, old in sorted(rows, key=lambda row: row[:2]):
        lines.append(
            f"| {name} | {change:+.1f} | {new.status}/{old.status} | "
            f"{abs(new.labels['spin_moment']):.2f}/{abs(old.labels['spin_moment']):.2f} | "
            f"{new.bond_length - old.bond_length:+.4f} | "
            f"{new.labels['binding_energy_ev'] - old.labels['binding_energy_ev']:+.3f} | "
            f"{new.cpu_time_s:.0f}/{old.cpu_time_s:.0f} |"
            + "".join(f" {new.labels[label]:.3f}/{old.labels[label]:.3f} |" for label in labels))
    changes = [row[0] for row in rows]
    lower = sum(change < -SAME_STATE_MEV for change in changes)
    higher = sum(change > SAME_STATE_MEV for change in changes)
    lines += ["", *skipped, f"{len(rows)} pairs compared: {lower} lower by more than "
              f"{SAME_STATE_MEV:g} meV, {higher} higher, {len(rows) - lower - higher} the same"]
    return "\n".join(lines)


def _free_energy_mev(record: PairRecord) -> float:
    return 1e3 * record.labels["mermin_free_energy_ev"]
