"""The default protocol on synthetic data (`input_pipeline.synthetic_dataset`, 2,850 generated
pairs whose labels are smooth functions of the pair): a run that needs no built dataset."""

from qc_models.configs.base import Config


def get_config() -> Config:
    return Config(dataset="synthetic")
