"""The `make demo` job end to end on CO: PySCF record, kernel densities, figure, and the cache."""

from qc_jax import demo


def test_demo_computes_renders_and_reuses_the_stored_record(tmp_path, capsys):
    args = ["--store", str(tmp_path / "store"), "--out", str(tmp_path / "out"), "--size", "48"]
    demo.main(args)
    first = capsys.readouterr().out
    assert "Computing C-O" in first and "partitions sum to rho" in first
    figure = tmp_path / "out" / "C_O_densities.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert figure.stat().st_size > 20_000  # seven panels, not an empty canvas
    demo.main(args)
    second = capsys.readouterr().out
    assert "Computing" not in second and "from " in second
