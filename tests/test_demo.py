"""The `make demo` job end to end on CO: PySCF record, canvas, figure, and the cached record."""

from qc_app import molecule_demo as demo


def test_demo_computes_renders_and_reuses_the_stored_record(tmp_path, capsys):
    args = ["--store", str(tmp_path / "store"), "--out", str(tmp_path / "out"), "--size", "24"]
    demo.main(args)
    first = capsys.readouterr().out
    assert "Computing C_O" in first and "m-partitions of rho agree" in first
    figure = tmp_path / "out" / "C_O.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert figure.stat().st_size > 50_000  # ten panels with colour bars, not an empty canvas
    demo.main(args)
    second = capsys.readouterr().out
    assert "Computing" not in second and "(store, " in second
