"""Every plot type is produced for the CAR-T example and is a valid image."""

from __future__ import annotations

import matplotlib.image as mpimg

from ces.cli import app
from tests.conftest import CONFIGS


def _valid(folder, name):
    png, svg = folder / f"{name}.png", folder / f"{name}.svg"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = mpimg.imread(png)
    assert img.shape[0] > 200 and img.shape[1] > 200
    assert "<svg" in svg.read_text()[:2000]


def test_all_plot_types_for_cart_example(runner, tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(CONFIGS / "cart_lbcl.yaml"), "--draws", "200", "-q", "--out", str(out),
                            "--plots"])
    assert r.exit_code == 0, r.output
    for name in ("ce_plane", "ceac", "evpi", "survival", "trace"):
        _valid(out / "plots", name)
    cfg = tmp_path / "dsa.yaml"
    cfg.write_text(f"ces: 1\nmodel: {CONFIGS.parent / 'models' / 'cart_lbcl.yaml'}\n"
                   "dsa: {parameters: [u_pf, c_pd_month], strategy: cart, comparator: chemo}\n")
    r = runner.invoke(app, ["dsa", str(cfg), "--out", str(tmp_path / "dsa")])
    assert r.exit_code == 0, r.output
    _valid(tmp_path / "dsa", "tornado")


def test_plots_need_an_output_directory(runner):
    r = runner.invoke(app, ["run", str(CONFIGS / "sick_sicker.yaml"), "--no-psa", "-q", "--plots"])
    assert r.exit_code == 2 and "--plots needs an output directory" in r.stderr
