"""The ``quantum_canvas`` TFDS dataset; importing this package registers the builder."""

from quantum_canvas.configs import CONFIGS, QuantumCanvasConfig
from quantum_canvas.quantum_canvas_dataset_builder import Builder

__all__ = ["CONFIGS", "Builder", "QuantumCanvasConfig"]
