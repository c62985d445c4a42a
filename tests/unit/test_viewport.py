"""Viewport math: pan, zoom about a point, fit, scale bar."""
import pytest

from desktop.core.geo.viewport import Viewport, nice_scale_bar


def test_zoom_keeps_the_point_under_the_cursor():
    vp = Viewport(cx=1000.0, cy=2000.0, scale=0.5, width=800, height=600)
    before = vp.to_map(100, 500)
    vp.zoom_at(2.0, 100, 500)
    after = vp.to_map(100, 500)
    assert after[0] == pytest.approx(before[0]) and after[1] == pytest.approx(before[1])
    assert vp.scale == 1.0


def test_pan_moves_content_with_the_drag_and_y_is_up():
    vp = Viewport(cx=0.0, cy=0.0, scale=1.0, width=100, height=100)
    sx, sy = vp.to_screen(10.0, 10.0)
    assert (sx, sy) == (60.0, 40.0)  # up on the map is up on the screen
    vp.pan_pixels(5, 5)
    assert vp.to_screen(10.0, 10.0) == (65.0, 45.0)


def test_fit_shows_the_whole_rectangle():
    vp = Viewport(width=1000, height=500)
    vp.fit(0, 0, 2000, 500, padding=0.0)
    assert vp.scale == pytest.approx(0.5)
    minx, miny, maxx, maxy = vp.bounds()
    assert minx <= 0 and maxx >= 2000 and miny <= 0 and maxy >= 500


@pytest.mark.parametrize("mpp,label", [(1.0, "100 m"), (0.1, "10 m"), (13.0, "2 km"), (70.0, "10 km")])
def test_scale_bar_uses_1_2_5_steps(mpp, label):
    px, metres, text = nice_scale_bar(mpp, max_px=160)
    assert text == label and px <= 160 and px == pytest.approx(metres / mpp)
