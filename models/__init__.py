"""qc_models: the Flax model zoo and training loop for quantum canvases."""
