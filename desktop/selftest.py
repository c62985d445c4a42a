"""``pingan-desk --self-test``: can this installation do its job? One line per check, exit 0
when every check passed, else 1 with what is missing named.

It runs the real parts, from a source checkout as from the built folder, and is what a
technician runs on a new workstation before calling the installation done:

- ``video``: PyAV encodes a short H.264 clip with its bundled FFmpeg and decodes it back
  (the codec libraries and PyAV's compiled submodules are there);
- ``crs``: a CGCS2000 coordinate transformed to its 3° Gauss-Krüger zone by PROJ (its
  database ``proj.db`` is found) and to GCJ-02;
- ``map``: the district dataset loaded and its map rendered offscreen, the picture checked
  for the district's boundary and land;
- ``journal``: an alarm journal (SQLite, WAL) opened in the data folder, written and read back;
- ``plugins``: every enabled plugin's code imported (a bundle that lost a module shows here);
- ``resources``: translations, sounds, the Qt platform plugins (``xcb``/``offscreen`` on Linux,
  ``windows`` on Windows) and a font that has Chinese characters.

Each check is independent: one failing does not stop the others, so the report names
everything that is missing at once.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np


class CheckFailed(RuntimeError):
    """A self-test check found something missing or wrong; the message says what."""


@dataclass
class CheckResult:
    """The outcome of one check: its name, whether it passed, what it found, how long it took."""

    name: str
    ok: bool
    detail: str
    seconds: float


# A reference point of the bundled district (Qingdao, Shinan) and where PROJ puts it: a
# CGCS2000 lon/lat to CGCS2000 / 3-degree Gauss-Kruger CM 120E (EPSG:4549), easting/northing
# in metres. Values from PROJ 9 with the EPSG database; a PROJ without its database, or a
# wrong axis order, misses them by kilometres.
CRS_POINT = (120.3826, 36.0671)
CRS_EXPECTED_EN = (534467.46, 3993055.81)
CRS_TOLERANCE_M = 0.5


def check_video(tmp: Path) -> str:
    """Encode 12 frames of 160x96 H.264 with PyAV and decode them back."""
    import av

    path = tmp / "selftest.mp4"
    w, h, n = 160, 96, 12
    with av.open(str(path), "w", format="mp4") as out:
        st = out.add_stream("libx264", rate=25)
        st.width, st.height, st.pix_fmt = w, h, "yuv420p"
        st.options = {"preset": "ultrafast", "x264-params": "threads=1"}
        for i in range(n):
            img = np.zeros((h, w, 3), np.uint8)
            img[:, : (i + 1) * w // n] = (40, 180, 240)  # a bar that grows: frames differ
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            for pkt in st.encode(frame):
                out.mux(pkt)
        for pkt in st.encode(None):
            out.mux(pkt)
    decoded = 0
    last = None
    with av.open(str(path)) as inp:
        stream = inp.streams.video[0]
        codec = stream.codec_context.name
        for frame in inp.decode(stream):
            last = frame.to_ndarray(format="bgra")
            decoded += 1
    if decoded != n:
        raise CheckFailed(f"decoded {decoded} of {n} frames of an H.264 clip")
    if last is None or last.shape[:2] != (h, w) or int(last[..., 0].max()) < 200:
        raise CheckFailed("the decoded picture is not the one encoded")
    return f"{codec} {w}x{h}, {decoded} frames encoded and decoded (PyAV {av.__version__})"


def check_crs() -> str:
    """CGCS2000 → its Gauss-Krüger zone through PROJ, and → GCJ-02."""
    import pyproj

    from desktop.core.geo.crs import gk3_zone_crs, transform

    try:
        data = pyproj.datadir.get_data_dir()
    except Exception as exc:  # noqa: BLE001 - pyproj says "valid PROJ data directory not found"
        raise CheckFailed(f"PROJ data directory not found: {exc}") from None
    if not (Path(data) / "proj.db").exists():
        raise CheckFailed(f"PROJ database proj.db missing in {data}")
    lon, lat = CRS_POINT
    zone = gk3_zone_crs(lon)
    e, n = transform(lon, lat, "EPSG:4490", zone)
    de, dn = e - CRS_EXPECTED_EN[0], n - CRS_EXPECTED_EN[1]
    if abs(de) > CRS_TOLERANCE_M or abs(dn) > CRS_TOLERANCE_M:
        raise CheckFailed(f"EPSG:4490 {lon}, {lat} → {zone} gave E {e:.2f} N {n:.2f}, "
                          f"expected E {CRS_EXPECTED_EN[0]:.2f} N {CRS_EXPECTED_EN[1]:.2f}")
    glon, glat = transform(lon, lat, "EPSG:4490", "GCJ02")
    shift = np.hypot((glon - lon) * 90_000, (glat - lat) * 111_000)
    if not 100 < shift < 1000:  # GCJ-02 moves Qingdao by roughly 400-600 m
        raise CheckFailed(f"GCJ-02 offset of {shift:.0f} m is not plausible")
    return (f"EPSG:4490 ({lon}, {lat}) → {zone} E {e:,.2f} N {n:,.2f} m; GCJ-02 shift {shift:.0f} m "
            f"(PROJ {pyproj.proj_version_str}, data {data})")


def district_in_picture(rgb: np.ndarray) -> tuple[bool, str]:
    """Does a picture of the map window show a district? ``rgb`` is ``(h, w, 3)`` uint8.

    The theme draws the district's boundary in its edge colour and the land and cells in
    colours unlike the sea; a blank, black or all-sea picture has neither. Used by the
    self-test on its own render and by the installer's smoke test on a screenshot."""
    from desktop.qt.theme import MAP  # only constants: the module's Qt imports are cheap

    def hex_rgb(c: str) -> np.ndarray:
        c = c.lstrip("#")[-6:]
        return np.array([int(c[i:i + 2], 16) for i in (0, 2, 4)], np.int16)

    px = rgb.reshape(-1, 3).astype(np.int16)
    total = len(px)
    near = lambda c, tol: int((np.abs(px - hex_rgb(c)).sum(axis=1) <= tol).sum())  # noqa: E731
    edge = near(MAP.district_edge, 60)
    sea = near(MAP.sea, 12)
    land = sum(near(c, 16) for c in (MAP.district, MAP.land, MAP.grid_edge))
    ok = edge >= 200 and land >= total * 0.03 and sea < total * 0.97
    return ok, (f"boundary {edge} px, land and cells {100.0 * land / total:.0f} %, "
                f"sea {100.0 * sea / total:.0f} % of {rgb.shape[1]}x{rgb.shape[0]}")


def qimage_rgb(img) -> np.ndarray:
    """A QImage as an ``(h, w, 3)`` uint8 RGB array (a copy)."""
    from PySide6.QtGui import QImage

    img = img.convertToFormat(QImage.Format_RGB888)
    w, h, bpl = img.width(), img.height(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), np.uint8, count=bpl * h).reshape(h, bpl)
    return buf[:, : w * 3].reshape(h, w, 3).copy()


def check_map(district_arg: str, datum: str) -> str:
    """Load the district and render its map into an offscreen image."""
    from PySide6.QtGui import QColor, QImage, QPainter

    from desktop.core.district.loader import load_district
    from desktop.core.district.resolve import resolve_district
    from desktop.core.geo.crs import MapProjection
    from desktop.qt.main_window import build_district_layers
    from desktop.qt.map.canvas import MapCanvas
    from desktop.qt.theme import MAP

    _qt_app()
    t0 = time.perf_counter()
    folder = resolve_district(district_arg)
    district = load_district(folder, MapProjection(datum))
    load_s = time.perf_counter() - t0
    canvas = MapCanvas()
    canvas.resize(960, 640)
    for layer in build_district_layers(district):
        canvas.add_layer(layer)
    canvas.set_home(district.map_bounds())
    img = QImage(960, 640, QImage.Format_ARGB32_Premultiplied)
    img.fill(QColor(MAP.sea))
    t1 = time.perf_counter()
    p = QPainter(img)
    canvas.render_to(p, allow_stale=False)
    p.end()
    render_ms = (time.perf_counter() - t1) * 1000.0
    ok, found = district_in_picture(qimage_rgb(img))
    canvas.deleteLater()
    if not ok:
        raise CheckFailed(f"the map of {district.info.name} rendered without the district: {found}")
    return (f"{district.info.name} ({district.info.adcode}): {len(district.cameras)} cameras, "
            f"{len(district.grid)} cells, loaded in {load_s:.2f} s, rendered in {render_ms:.0f} ms; {found}")


def check_journal() -> str:
    """Open an alarm journal in the data folder (SQLite, WAL), write an entry, close, reopen
    and read it back (the data folder is writable and the journal's schema is created)."""
    import sqlite3

    from desktop.core.alarms.journal import Journal
    from desktop.core.alarms.model import AuditEntry
    from desktop.paths import data_dir

    folder = data_dir()
    path = folder / f"selftest-{os.getpid()}.sqlite"
    stamp = time.time()
    try:
        journal = Journal(path, recover=False)
        try:
            with journal.batch() as b:
                b.add_audit(AuditEntry(stamp, "", "selftest", "selftest", "selftest", "journal"))
            mode = journal.pragma("journal_mode")
        finally:
            journal.close()
        journal = Journal(path, recover=False)
        try:
            back = [e for e in journal.audit_log(limit=5) if e.action == "selftest"]
        finally:
            journal.close()
        if not back or abs(back[0].epoch - stamp) > 1e-3:
            raise CheckFailed(f"the journal {path} did not keep what was written")
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    return f"SQLite {sqlite3.sqlite_version}, journal_mode {mode}, written and read back in {folder}"


def check_plugins() -> str:
    """Import the code of every plugin start-up would enable, without enabling it."""
    from desktop.core.plugin_api.discovery import forget_modules, import_entry
    from desktop.core.plugin_api.host import PluginManager
    from desktop.paths import PLUGINS

    manager = PluginManager(mode="operator")
    records = manager.discover([PLUGINS])
    problems = list(manager.discovery_errors)
    loaded = []
    for rec in records:
        if rec.state != "discovered":
            continue
        try:
            import_entry(rec.manifest)
            loaded.append(rec.manifest.id)
        except Exception as exc:  # noqa: BLE001 - each plugin is named with its error
            problems.append(f"{rec.manifest.id}: {type(exc).__name__}: {exc}")
        finally:
            try:
                forget_modules(rec.manifest)
            except Exception:  # noqa: BLE001 - forgetting is tidiness, not a check
                pass
    if problems:
        raise CheckFailed("; ".join(problems))
    if not loaded:
        raise CheckFailed(f"no plugin found in {PLUGINS}")
    return f"{len(loaded)} plugins import: {', '.join(loaded)} (from {PLUGINS})"


def check_resources() -> str:
    """Translations, sounds, Qt's platform plugins and a font for Chinese."""
    from PySide6.QtCore import QLibraryInfo
    from PySide6.QtGui import QFontDatabase

    from desktop.paths import RESOURCES

    missing = []
    if not (RESOURCES / "i18n" / "zh_CN.json").exists():
        missing.append(f"translations ({RESOURCES / 'i18n' / 'zh_CN.json'})")
    sounds = sorted((RESOURCES / "sounds").glob("*.wav"))
    if not sounds:
        missing.append(f"alarm sounds ({RESOURCES / 'sounds'})")
    platforms = Path(QLibraryInfo.path(QLibraryInfo.PluginsPath)) / "platforms"
    want = ("windows",) if sys.platform == "win32" else ("xcb", "offscreen")
    present = {p.name for p in platforms.glob("*")} if platforms.is_dir() else set()
    for name in want:
        if not any(name in f for f in present):
            missing.append(f"Qt platform plugin {name!r} (in {platforms})")
    _qt_app()
    cjk = [f for f in QFontDatabase.families() if any(k in f for k in ("CJK", "Hei", "YaHei", "WenQuanYi", "Song"))]
    if not cjk:
        missing.append("a font with Chinese characters (install fonts-noto-cjk)")
    if missing:
        raise CheckFailed("missing: " + "; ".join(missing))
    return (f"zh_CN catalog, {len(sounds)} sounds, Qt platforms {', '.join(want)}, "
            f"font {cjk[0]}")


_APP = None


def _qt_app():
    """The QApplication the checks paint with; offscreen when there is no display."""
    global _APP
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and sys.platform.startswith("linux"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        _APP = QApplication(sys.argv[:1])
    return QApplication.instance()


def run_checks(district: str = "", datum: str = "GCJ02") -> list[CheckResult]:
    """Run every check (each one independent of the others' failures)."""
    tmp = Path(tempfile.mkdtemp(prefix="pingan-selftest-"))
    checks: list[tuple[str, Callable[[], str]]] = [
        ("video", lambda: check_video(tmp)),
        ("crs", check_crs),
        ("map", lambda: check_map(district, datum)),
        ("journal", check_journal),
        ("plugins", check_plugins),
        ("resources", check_resources),
    ]
    results = []
    for name, fn in checks:
        t0 = time.perf_counter()
        try:
            detail, ok = fn(), True
        except CheckFailed as exc:
            detail, ok = str(exc), False
        except ImportError as exc:  # a module the installation lacks: name it
            detail, ok = f"cannot import {exc.name or exc}: {exc}", False
        except Exception as exc:  # noqa: BLE001 - reported, with where it came from
            where = traceback.extract_tb(exc.__traceback__)[-1]
            detail, ok = (f"{type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})", False)
        results.append(CheckResult(name, ok, detail, time.perf_counter() - t0))
    for f in tmp.glob("*"):
        f.unlink(missing_ok=True)
    tmp.rmdir()
    return results


def main(district: str = "", datum: str = "GCJ02", out=None) -> int:
    """Print one line per check and a verdict; returns the exit code (0: all passed)."""
    out = out or sys.stdout
    frozen = " (built program)" if getattr(sys, "frozen", False) else ""
    try:
        from desktop.qt.about import program_version
        version = program_version()
    except ImportError:  # no Qt at all: the checks below say so
        version = "?"
    print(f"Pingan Desk {version} self-test{frozen}: {sys.executable}", file=out, flush=True)
    results = run_checks(district, datum)
    for r in results:
        print(f"{'ok  ' if r.ok else 'FAIL'} {r.name:<10} {r.seconds:5.2f} s  {r.detail}", file=out, flush=True)
    failed = [r.name for r in results if not r.ok]
    if failed:
        print(f"self-test FAILED: {', '.join(failed)}", file=out, flush=True)
        return 1
    print(f"self-test passed: {len(results)} checks", file=out, flush=True)
    return 0
