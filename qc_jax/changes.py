"""How the records of the same pairs differ between two sets of records: a store computed again
against the shipped records (``qc-canvas ship --replace``), or the shipped records at two commits
(``benchmarks/shipped_changes.py``). The Markdown table is the one docs/chemistry.md quotes."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Protocol

from qc_jax.record import PairRecord

SAME_STATE_MEV = 1.0
"""Free energies within this (meV) count as the same state."""

ION_GAIN_MEV = 5.0
"""An ion of the same neutral state counts as lower when its energy is lower by more than this
(meV): a smaller ``i_ev`` (the cation) or a larger ``a_ev`` (the anion)."""

_IONS = (("i_ev", 1.0, "cation"), ("a_ev", -1.0, "anion"))
"""(label, sign, ion): sign * (before - now) > 0 when the ion of ``now`` is lower."""


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


def improvement(now: PairRecord | None, before: PairRecord | None) -> str | None:
    """Why ``now`` (a pair computed again) is better than ``before`` (the shipped record), or
    None (also when either is missing). Better: it converges where ``before`` failed or needed a
    raised k_B T; or at the same k_B T its Mermin free energy is lower by more than
    :data:`SAME_STATE_MEV`; or it is the same state (within that) and is ok where ``before`` was
    flagged, or gains an ion label, or has an ion lower by more than :data:`ION_GAIN_MEV`, with no
    ion label lost or higher by more than :data:`SAME_STATE_MEV`. `qc-canvas ship --replace
    --improved` ships these."""
    if now is None or before is None or not now.labels or now.retryable:
        return None
    if not before.labels or before.retryable:
        return "converges at the default k_B T"
    if now.labels["smearing_sigma_ev"] != before.labels["smearing_sigma_ev"]:
        return None
    change = _free_energy_mev(now) - _free_energy_mev(before)
    if change < -SAME_STATE_MEV:
        return f"free energy {change:+.1f} meV"
    if change > SAME_STATE_MEV:
        return None
    if now.status == "flagged" and before.status == "ok":
        return None
    gains = [f"ok where it was flagged ({before.reason})"] if now.status != before.status else []
    for label, sign, ion in _IONS:
        new, old = now.labels[label], before.labels[label]
        if math.isnan(new):
            if not math.isnan(old):
                return None
        elif math.isnan(old):
            gains.append(f"{ion} converges")
        elif (gain := 1e3 * sign * (old - new)) > ION_GAIN_MEV:
            gains.append(f"{ion} {gain:.1f} meV lower")
        elif gain < -SAME_STATE_MEV:
            return None
    return "same state, " + " and ".join(gains) if gains else None


def _free_energy_mev(record: PairRecord) -> float:
    return 1e3 * record.labels["mermin_free_energy_ev"]
