"""The paper's stamp encoder against values computed by hand, and on a real record."""

import math

import numpy as np
import pytest

from qc_jax import canvas, stamps
from qc_jax.chem import FAST, compute_pair

# A hand example: atom 0 has 1.0 e in s, 2.0 e in p (m = -1, 0, 1: 0.5, 1.0, 0.5);
# atom 1 has 0.6 e in s, 3.0 e in p (m: 1.0, 0.5, 1.5), 0.4 e in d (all in m = +2).
POP_L = np.array([[1.0, 2.0, 0.0], [0.6, 3.0, 0.4]])
POP_LM = np.zeros((2, 3, 5))
POP_LM[0, 0, 2], POP_LM[0, 1, 1:4] = 1.0, [0.5, 1.0, 0.5]
POP_LM[1, 0, 2], POP_LM[1, 1, 1:4], POP_LM[1, 2, 4] = 0.6, [1.0, 0.5, 1.5], 0.4
CHARGES = np.array([0.3, -0.3])
DIPOLE_D = 2.0


@pytest.fixture(scope="module")
def image():
    return stamps.stamp_canvas(POP_L, POP_LM, CHARGES, DIPOLE_D)


def test_stamps_at_the_atom_pixels(image):
    assert image.shape == (32, 32, 10)
    far = math.exp(-(10**2) / (2 * 3**2))  # the other atom, 10 columns away, sigma 3
    # ch0 amplitudes: atom 0: 1 * 1/3 + 2 * 2/3 = 5/3; atom 1: 0.6/3 + 3 * 2/3 + 0.4 * 3/3 = 2.6
    assert image[16, 11, 0] == pytest.approx(5 / 3 + 2.6 * far)
    assert image[16, 21, 0] == pytest.approx(2.6 + 5 / 3 * far)
    # ch1: |sum m pop|: atom 0: -0.5 + 0.5 = 0; atom 1: -1.0 + 1.5 + 2 * 0.4 = 1.3
    assert image[16, 11, 1] == pytest.approx(1.3 * far)
    assert image[16, 21, 1] == pytest.approx(1.3)
    far4 = math.exp(-(10**2) / (2 * 4**2))
    # ch6: 10 |q|, sigma 4; ch7: N_i = 3.0 and 4.0, sigma 4
    assert image[16, 11, 6] == pytest.approx(3.0 + 3.0 * far4)
    assert image[16, 11, 7] == pytest.approx(3.0 + 4.0 * far4)
    # ch8 only from atom 0 (q > 0), ch9 only from atom 1, sigma 3.5
    assert image[16, 11, 8] == pytest.approx(3.0)
    assert image[16, 21, 8] == pytest.approx(3.0 * math.exp(-(10**2) / (2 * 3.5**2)))
    assert image[16, 21, 9] == pytest.approx(3.0)


def test_channels_are_chosen_by_name(image):
    """A subset in another order (the renderer's ``names``): the same images, by name."""
    chosen = stamps.stamp_canvas(POP_L, POP_LM, CHARGES, DIPOLE_D,
                                 names=("anion", "radial_population"))
    np.testing.assert_array_equal(chosen, image[..., [9, 0]])  # Q- and O-Map radial, above
    assert canvas.STAMPS.names == stamps.NAMES and canvas.STAMPS.count == image.shape[-1]


def test_radial_patterns_by_hand(image):
    u = np.linspace(-1, 1, 32)
    row, col = 5, 27
    r2, theta = u[col] ** 2 + u[row] ** 2, math.atan2(u[row], u[col])
    assert image[row, col, 2] == pytest.approx(math.exp(-r2 / 0.3) * (1.0 + 2.0 + 0.6 + 3.0))
    assert image[row, col, 3] == pytest.approx(math.exp(-r2 / 0.5) * (1 + math.cos(4 * theta))
                                               * 0.4)
    assert image[row, col, 4] == pytest.approx(DIPOLE_D / 2.541746473 * math.sqrt(r2)
                                               * math.exp(-r2 / 0.4))
    assert image[row, col, 5] == pytest.approx(0.6 * (3 * math.cos(theta) ** 2 - 1)
                                               * math.exp(-r2 / 0.4))


def test_stamps_of_a_record_ignore_the_geometry():
    record = compute_pair("H", "Li", settings=FAST)
    spec = canvas.CanvasSpec(channels="stamps")
    image = canvas.render(record, spec)
    assert image.shape == (32, 32, 10) and image.dtype == np.float32
    stretched = record.__class__(**{**record.__dict__, "positions": record.positions * 2})
    np.testing.assert_array_equal(canvas.render(stretched, spec), image)  # the paper's defect
    assert image[..., 8].max() > 0 and image[..., 9].max() > 0  # one cation, one anion


def test_figures_draw_stamps_on_pixels_and_keep_the_backend(tmp_path):
    import matplotlib
    from PIL import Image

    from qc_app import figures

    record = compute_pair("H", "Li", settings=FAST)
    backend = matplotlib.get_backend()
    for channels in ("stamps", "physical"):
        spec = canvas.CanvasSpec(channels=channels, height=16, width=16, supersample=1)
        path = figures.canvas_figure(canvas.render(record, spec), spec, record,
                                     tmp_path / f"{channels}.png")
        assert Image.open(path).size == (1700, 740)  # 2 rows of 5 panels at 100 dpi
    assert matplotlib.get_backend() == backend
    assert not canvas.STAMPS.on_bond_plane and canvas.PHYSICAL.on_bond_plane
