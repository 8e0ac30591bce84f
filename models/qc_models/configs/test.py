"""A run that takes seconds on one CPU core: a tiny CNN on 96 synthetic pairs, 3 epochs."""

from qc_models.configs.base import Config


def get_config() -> Config:
    return Config(
        model="cnn",
        model_kwargs={"features": 8},
        targets=("e_g_ev", "distance_ang"),
        dataset="synthetic",
        num_synthetic=96,
        batch_size=16,
        num_epochs=3,
        warmup_epochs=1,
        progress=False,
    )
