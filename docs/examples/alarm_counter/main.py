"""The example plugin of docs/plugins.md: counts alarms by type, today (from the journal) and live.

It shows every part of the SDK a panel usually needs: a dock panel, a toolbar button, an entry
in the map's right-click menu, a declared setting, its own translations, the ``alarms`` stream
(one call per frame however many alarms arrive) and a journal query run off the GUI thread.
"""
from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from pathlib import Path

from PySide6.QtWidgets import QLabel, QListWidget, QVBoxLayout, QWidget

from desktop.sdk import CHINA_TZ, EventKind, Plugin, tr, type_label

HERE = Path(__file__).resolve().parent


class CountsPanel(QWidget):
    """A title line and the list of the most frequent alarm types."""

    def __init__(self):
        super().__init__()
        lay = QVBoxLayout(self)
        self.total = QLabel(tr("Counting…"))
        self.list = QListWidget()
        lay.addWidget(self.total)
        lay.addWidget(self.list)

    def show_counts(self, counts: Counter, top: int) -> None:
        self.total.setText(tr("{n} alarms since start of day", n=sum(counts.values())))
        self.list.clear()
        for kind, n in counts.most_common(top):
            self.list.addItem(f"{type_label(kind)}  {n}")


class AlarmCounter(Plugin):
    """Alarms by type since local midnight: the journal's count at start, then the live stream."""

    def register(self) -> None:
        self.host.load_translations(HERE / "i18n")
        self.top = self.host.settings()["top"]  # declared in plugin.toml, checked by the host
        self.alarms = self.host.service("alarms")
        self.counts: Counter = Counter()
        self.seen: set[str] = set()  # an alarm both in the query and in the stream counts once
        self.panel = CountsPanel()
        self.host.add_panel("counts", tr("Alarm counts"), self.panel, area="right")
        self.host.add_toolbar_action("reset", tr("Reset counts"), self.reset)
        self.host.add_feature_action("open_camera", tr("Open this camera on the wall"),
                                     lambda hit: self.host.open_cameras([hit.id]), kinds=["camera"])
        self.host.stream("alarms", self.on_events)
        midnight = datetime.now(CHINA_TZ).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        self.host.run_in_background(lambda: self.alarms.query(midnight, time.time() + 86400),
                                    self.on_today, what="today's alarm count")

    def _count(self, alarms) -> None:
        fresh = [a for a in alarms if a.id not in self.seen]
        self.seen.update(a.id for a in fresh)
        self.counts.update(a.type for a in fresh)
        self.panel.show_counts(self.counts, self.top)

    def on_today(self, alarms: list) -> None:
        self._count(alarms)

    def on_events(self, events: list) -> None:
        new = [e.alarm for e in events if e.kind == EventKind.NEW]
        if new:
            self._count(new)

    def reset(self) -> None:
        self.counts.clear()
        self.panel.show_counts(self.counts, self.top)
