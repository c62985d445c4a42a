"""The workstation's side of the wall: the Wall menu ("Send to wall") and the walls' live state.

Each wall's retained state (``pingan/wall/<id>/state``) tells whether it is online, which
revision it applied and what it shows; the menu lists the walls with that state, the status
bar shows the configured one. "Send the current view" sends the map view and the video wall's
layout and cameras (with the alarm ticker and the clock beside them); a saved video layout can
be sent the same way. Revisions are taken above what the wall reports, so a send always wins
over what the wall shows.
"""
from __future__ import annotations

import logging
import time
from dataclasses import replace

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel

from desktop.core.geo.viewport import Viewport
from desktop.core.i18n import tr
from desktop.core.wall.layout import MapView, WallLayout, default_layout, next_revision

from . import load_catalog

log = logging.getLogger(__name__)


def workstation_layout(wall: str, canvas, projection, video_state: dict | None, *, revision: int,
                       sent_by: str = "", name: str = "") -> WallLayout:
    """The wall layout for what this workstation shows: its map view and its video tiles."""
    base = default_layout(wall)
    vp: Viewport = canvas.vp
    lon, lat = projection.inverse(vp.cx, vp.cy, "WGS84")
    regions = []
    for r in base.regions:
        if r.kind == "map":
            regions.append(replace(r, view=MapView(float(lon), float(lat), "WGS84",
                                                   max(0.05, float(vp.ground_metres_per_pixel())))))
        elif r.kind == "video" and video_state:
            video = {"layout": video_state["layout"], "tiles": list(video_state["tiles"])}
            if video_state.get("tour"):
                video["tour"] = dict(video_state["tour"])
            regions.append(replace(r, video=video))
        else:
            regions.append(r)
    return replace(base, regions=tuple(regions), revision=revision, sent_by=sent_by,
                   sent_at=time.time(), name=name or tr("Sent from {who}", who=sent_by or "?"))


class WallSender(QObject):
    """Walls' states in, layouts out; ``channel`` is an MqttWallChannel (workstation side) or a
    LocalWallChannel shared with an in-process wall window."""

    walls_changed = Signal()
    _state_in = Signal(str, dict)

    def __init__(self, window, channel, default_wall: str = "main", sent_by: str = ""):
        super().__init__(window)
        load_catalog()
        self.window = window
        self.channel = channel
        self.default_wall = default_wall
        self.sent_by = sent_by
        self.walls: dict[str, dict] = {}
        self.sent: dict[str, int] = {}  # wall -> last revision we sent
        self._state_in.connect(self._on_state)
        self.label = QLabel("")
        self.label.setObjectName("wallState")
        window.statusBar().addPermanentWidget(self.label)
        self.menu = window.menuBar().addMenu(tr("&Wall"))
        self.menu.aboutToShow.connect(self._fill_menu)
        self._update_label()

    def on_wall_state(self, wall: str, state: dict) -> None:
        """From the channel's thread."""
        self._state_in.emit(wall, state)

    def _on_state(self, wall: str, state: dict) -> None:
        was = self.walls.get(wall, {}).get("online")
        self.walls[wall] = state
        if was is not None and was != state.get("online"):
            if state.get("online"):
                self.window.show_notice(tr("Wall {wall} is online", wall=wall), "info")
            else:
                self.window.show_notice(tr("Wall {wall} went offline", wall=wall), "warning")
        self._update_label()
        self.walls_changed.emit()

    def describe(self, wall: str) -> str:
        st = self.walls.get(wall)
        if st is None:
            return tr("{wall}: no state yet", wall=wall)
        if not st.get("online"):
            return tr("{wall}: offline", wall=wall)
        text = tr("{wall}: online, revision {rev}", wall=wall, rev=st.get("applied_revision", 0))
        if st.get("showing") == "alarm":
            text += " · " + tr("alarm {id}", id=st.get("alarm") or "")
        bad = [t for t in st.get("tiles", []) if t.get("state") not in ("live", "connecting")]
        if bad:
            text += " · " + tr("{n} tiles without picture", n=len(bad))
        return text

    def _update_label(self) -> None:
        self.label.setText(tr("Wall") + " " + self.describe(self.default_wall))

    def _fill_menu(self) -> None:
        m = self.menu
        m.clear()
        walls = sorted(set(self.walls) | {self.default_wall})
        for wall in walls:
            sub = m.addMenu(self.describe(wall))
            sub.addAction(tr("Send the current view"), lambda w=wall: self.send_current(w))
            store = getattr(getattr(self.window, "wall", None), "store", None)
            names = store.names() if store is not None else []
            if names:
                saved = sub.addMenu(tr("Send a saved layout"))
                for n in names:
                    saved.addAction(n, lambda w=wall, n=n: self.send_saved(w, n))
            sub.addAction(tr("Send the default layout"), lambda w=wall: self.send(default_layout(w)))

    def _revision_for(self, wall: str) -> int:
        known = max(int(self.walls.get(wall, {}).get("applied_revision") or 0), self.sent.get(wall, 0))
        return next_revision(known)

    def send(self, layout: WallLayout) -> WallLayout:
        layout = layout.with_revision(self._revision_for(layout.wall), sent_by=self.sent_by, sent_at=time.time())
        self.channel.publish_layout(layout)
        self.sent[layout.wall] = layout.revision
        self.window.show_notice(tr("Sent “{name}” to wall {wall} (revision {rev})", name=layout.name or "-",
                                   wall=layout.wall, rev=layout.revision), "info")
        return layout

    def send_current(self, wall: str | None = None) -> WallLayout:
        wall = wall or self.default_wall
        vw = getattr(self.window, "wall", None)
        # the video wall's own model: its layout, cameras and a running page tour go as they are
        state = vw.model.state(with_tour=True) if vw is not None else None
        layout = workstation_layout(wall, self.window.canvas, self.window.projection, state,
                                    revision=1, sent_by=self.sent_by)
        return self.send(layout)

    def send_saved(self, wall: str, name: str) -> WallLayout | None:
        state = self.window.wall.store.load(name) if getattr(self.window, "wall", None) is not None else None
        if state is None:
            self.window.show_notice(tr("No saved layout called {name}", name=name), "warning")
            return None
        layout = workstation_layout(wall, self.window.canvas, self.window.projection, state,
                                    revision=1, sent_by=self.sent_by, name=name)
        return self.send(layout)


def attach_wall_sender(window, cfg, workstation: str = "", operator: str = ""):
    """The Wall menu in the operator window: over MQTT with ``--broker``, else in-process to a
    wall window of this program (``[wall] window = true``)."""
    sent_by = "/".join(x for x in (workstation, operator) if x)
    local = getattr(window, "wall_channel", None)
    if cfg.broker and local is None:
        from desktop.core.wall.link import MqttWallChannel
        sender = WallSender(window, None, cfg.wall_id or "main", sent_by)
        channel = MqttWallChannel.from_url(cfg.broker, on_wall_state=sender.on_wall_state)
        sender.channel = channel
        channel.start()
        from PySide6.QtWidgets import QApplication
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(channel.stop)
    elif local is not None:
        sender = WallSender(window, local, cfg.wall_id or "main", sent_by)
        local.subscribe_states(sender.on_wall_state)
    else:
        return None
    window.wall_sender = sender
    return sender
