"""The dark control-room theme: palette, stylesheet and the map's colours.

One place for colours so the map, the wall and the plugin panels agree; ``scale`` enlarges
type for the wall display seen from ten metres.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True)
class MapColors:
    """Colours of the vector basemap and layers (hex strings, '#RRGGBB' or '#AARRGGBB')."""

    sea: str = "#0b1a2a"
    land: str = "#1b232c"
    land_edge: str = "#2f3b47"
    district: str = "#1f2d3a"
    district_edge: str = "#4fc3f7"
    grid_edge: str = "#3d5566"
    label: str = "#c7d3dd"
    label_dim: str = "#7f93a3"
    zone_snatch_pickpocket: str = "#ffb74d"
    zone_street_theft: str = "#ba68c8"
    zone_burglary: str = "#e57373"
    route_car: str = "#29b6f6"
    route_ebike: str = "#81c784"
    post: str = "#fff176"
    control_area: str = "#ef5350"
    cam_hd: str = "#4dd0e1"
    cam_checkpoint: str = "#ffca28"
    cam_coastal: str = "#80cbc4"
    cam_ptz: str = "#aed581"
    cam_radar: str = "#f48fb1"
    cluster: str = "#26c6da"
    selection: str = "#ffffff"
    risk: tuple = ("#ff1744", "#ff9100", "#ffd600", "#9ccc65")  # grade 1 (major) .. 4


MAP = MapColors()

BG = "#11161c"
PANEL = "#161d25"
TEXT = "#dce6ee"
TEXT_DIM = "#8a9bab"
ACCENT = "#29b6f6"
BORDER = "#2a3541"


def apply_theme(app: QApplication, scale: float = 1.0) -> None:
    """Dark palette and stylesheet on the whole application; ``scale`` multiplies type size."""
    app.setStyle("Fusion")
    pal = QPalette()
    for role, color in (
        (QPalette.Window, BG), (QPalette.Base, PANEL), (QPalette.AlternateBase, "#1b242e"),
        (QPalette.WindowText, TEXT), (QPalette.Text, TEXT), (QPalette.ButtonText, TEXT),
        (QPalette.Button, "#1e2832"), (QPalette.Highlight, ACCENT),
        (QPalette.HighlightedText, "#0b1219"), (QPalette.ToolTipBase, "#0f151b"),
        (QPalette.ToolTipText, TEXT), (QPalette.PlaceholderText, TEXT_DIM),
        (QPalette.BrightText, "#ffffff"), (QPalette.Link, ACCENT),
    ):
        pal.setColor(role, QColor(color))
    pal.setColor(QPalette.Disabled, QPalette.Text, QColor(TEXT_DIM))
    pal.setColor(QPalette.Disabled, QPalette.ButtonText, QColor(TEXT_DIM))
    app.setPalette(pal)
    font = QFont()
    # Noto Sans CJK covers both scripts; Qt falls back if it is missing.
    font.setFamilies(["Noto Sans CJK SC", "Noto Sans", "DejaVu Sans"])
    font.setPointSizeF(10.0 * scale)
    app.setFont(font)
    app.setStyleSheet(f"""
        QMainWindow, QDialog {{ background: {BG}; }}
        QDockWidget {{ color: {TEXT}; font-weight: bold; }}
        QDockWidget::title {{ background: #1a232d; padding: 4px 8px; border-bottom: 1px solid {BORDER}; }}
        QStatusBar {{ background: #0d1217; color: {TEXT}; border-top: 1px solid {BORDER}; }}
        QStatusBar QLabel {{ padding: 0 6px; }}
        QToolTip {{ background: #0f151b; color: {TEXT}; border: 1px solid {ACCENT}; padding: 4px; }}
        QTreeWidget, QListWidget, QTableWidget, QTableView, QTreeView {{
            background: {PANEL}; border: 1px solid {BORDER}; }}
        QHeaderView::section {{ background: #1a232d; color: {TEXT_DIM}; border: 0; padding: 3px 6px; }}
        QMenuBar {{ background: #0d1217; color: {TEXT}; }}
        QMenuBar::item:selected, QMenu::item:selected {{ background: {ACCENT}; color: #0b1219; }}
        QMenu {{ background: {PANEL}; color: {TEXT}; border: 1px solid {BORDER}; }}
        QToolBar {{ background: #0d1217; border: 0; spacing: 4px; }}
        QPushButton {{ background: #1e2832; border: 1px solid {BORDER}; padding: 4px 10px; border-radius: 3px; }}
        QPushButton:hover {{ border-color: {ACCENT}; }}
        QPushButton:pressed {{ background: {ACCENT}; color: #0b1219; }}
        QComboBox, QLineEdit, QSpinBox {{ background: {PANEL}; border: 1px solid {BORDER}; padding: 2px 4px; }}
        QSplitter::handle {{ background: {BORDER}; }}
        QTabBar::tab {{ background: #1a232d; color: {TEXT_DIM}; padding: 5px 12px; }}
        QTabBar::tab:selected {{ color: {TEXT}; border-bottom: 2px solid {ACCENT}; }}
    """)
