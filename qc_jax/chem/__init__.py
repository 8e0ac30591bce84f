"""PySCF electronic structure of diatomics: SCF with smearing, bond-length optimisation, labels."""
