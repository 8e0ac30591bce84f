"""QuantumCanvas-JAX: differentiable orbital densities of diatomic molecules on grids.

Sub-modules (imported on demand, so that ``import qc_jax`` stays light):

- :mod:`qc_jax.basis`   PySCF ``Mole`` -> static shell layout + JAX arrays
- :mod:`qc_jax.kernels` jit-compiled AO values, derivatives and densities on points
"""

__version__ = "0.1.0"
