"""The paper's protocol, corrected: CNN, batch 64, 50 epochs, patience 10, L1 on min-max targets."""

from qc_models.configs.base import Config


def get_config() -> Config:
    return Config()
