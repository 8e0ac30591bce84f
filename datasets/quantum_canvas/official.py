"""The ``official`` config: the QuantumCanvas paper's ``dataset_combined.npz`` (manual download)."""

from __future__ import annotations

INSTRUCTIONS = """\
For the `official` config only: download `dataset_combined.npz` (md5
a35d349814ca9e12a8413289c015de49, CC-BY-4.0) from https://doi.org/10.5281/zenodo.20631934 and
place it in the manual directory (`<data_dir>/downloads/manual/`, or pass
`download_config=tfds.download.DownloadConfig(manual_dir=...)`). The other configs need no
download: they compute their records with PySCF.
"""
