"""The paper's protocol, corrected, on the real dataset: CNN on `quantum_canvas/paper75` (build it
first: README, Dataset), batch 64, 50 epochs, patience 10, L1 on min-max targets."""

from qc_models.configs.base import Config


def get_config() -> Config:
    return Config()
