"""QuantumCanvas-JAX: differentiable orbital densities of diatomic molecules on grids.

Modules (imported on demand, so that ``import qc_jax`` stays light):

- :mod:`qc_jax.elements` element symbols, the named element sets, pairs and pair names
- :mod:`qc_jax.units`    unit conversions (the one source)
- :mod:`qc_jax.splits`   the paper's seeded random split
- :mod:`qc_jax.record`   ``PairRecord`` and ``AtomRecord``: what is computed for a pair or atom
- :mod:`qc_jax.store`    checksummed, atomically written records on disk, one folder per level
- :mod:`qc_jax.compact`  the compact records shipped with the dataset, and their manifest
- :mod:`qc_jax.orbitals` frontier levels of spin-resolved occupations
- :mod:`qc_jax.basis`    shells (or a PySCF ``Mole``) -> static shell layout + JAX arrays
- :mod:`qc_jax.stored_basis` the basis of a stored record from its named basis files, no PySCF
- :mod:`qc_jax.kernels`  jit-compiled AO values, derivatives and densities on points
- :mod:`qc_jax.channels` ``Channel`` and ``ChannelSet``: a canvas's channel table and renderer
- :mod:`qc_jax.canvas`   the physical channel sets and the canvas of a record on the bond plane
- :mod:`qc_jax.stamps`   the QuantumCanvas paper's population stamps (control experiments)
- :mod:`qc_jax.chem`     PySCF: level of theory, SCF, spin, atoms, bond search, labels, runner,
  and :func:`qc_jax.chem.lookup.get_record` (shipped, stored or computed)

The ``qc-canvas`` command, ``make demo`` and figures are the application layer, :mod:`qc_app`.
"""

__version__ = "0.1.0"
