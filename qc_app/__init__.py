"""The application layer of QuantumCanvas-JAX: what a person runs, above every library layer.

- :mod:`qc_app.cli`            the ``qc-canvas`` command (compute, ship, show, cube, train, ...)
- :mod:`qc_app.figures`        pictures of canvases, one panel per channel, with units and atoms
- :mod:`qc_app.molecule_demo`  ``make demo``, step 1: CO with PySCF, its canvas at high resolution
- :mod:`qc_app.dataset_demo`   ``make demo``, step 2: the dataset from the shipped records, the
  constant predictor, a CNN and SchNet, their test MAE and figures

The libraries below it depend on each other one way: ``qc_models`` -> ``quantum_canvas`` ->
``qc_jax.chem`` (PySCF) -> ``qc_jax`` (kernel, canvas); none of them imports this package.
"""
