"""qc_models: the Flax model zoo and training loop for quantum canvases.

`qc_models.load(workdir)` returns a trained run (`qc_models.predict.Trained`); the import of JAX
and Flax waits until it is called.
"""


def load(workdir):
    """The best checkpoint of a training run's workdir (see `qc_models.predict.load`)."""
    from qc_models.predict import load as load_workdir

    return load_workdir(workdir)
