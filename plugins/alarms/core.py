"""The alarm panel's decisions, free of Qt: what to link, when to ring, what the queue shows.

Kept apart from the widgets so the behaviour under a flood (one wall change and one sound
per burst, not per message) is tested without a display.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from desktop.sdk import Alarm, AlarmEvent, AlarmState, CameraArrays, EventKind, cameras_covering, nearest_units


@dataclass
class Filters:
    """The queue's filters; None means 'any'."""

    type: str | None = None
    state: str | None = None
    subdistrict: str | None = None
    open_only: bool = True
    text: str = ""  # words the id, source, text, sub-district, type or unit must contain (any case)

    def query(self) -> dict:
        return {
            "types": None if self.type is None else [self.type],
            "states": None if self.state is None else [self.state],
            "subdistricts": None if self.subdistrict is None else [self.subdistrict],
            "open_only": self.open_only,
        }


WATER_KINDS = ("boat",)  # patrol unit kinds that go to sea


@dataclass
class Linkage:
    """Which cameras to open for an alarm and which units to offer, with limits against floods."""

    cameras: CameraArrays
    max_cameras: int = 4
    min_interval_s: float = 3.0  # at most one automatic wall change per this many seconds
    auto_priorities: tuple[int, ...] = (1, 2, 3)  # priority 4 alarms do not take over the wall
    _last_auto: float = field(default=-1e18, repr=False)

    def cameras_for(self, alarm: Alarm) -> list[str]:
        """Cameras named by the alarm first, then those whose view covers its point, best first."""
        if not hasattr(self, "_known"):
            self._known = set(self.cameras.ids.tolist())
        out = [c for c in alarm.camera_ids if c in self._known]
        for cid, _score in cameras_covering(alarm.lon_wgs, alarm.lat_wgs, self.cameras, limit=self.max_cameras * 2):
            if cid not in out:
                out.append(cid)
        return out[: self.max_cameras]

    def should_auto_open(self, alarm: Alarm, now: float) -> bool:
        """True for a fresh, urgent enough alarm when the wall was not just changed."""
        if alarm.priority not in self.auto_priorities or not alarm.is_open:
            return False
        if now - self._last_auto < self.min_interval_s:
            return False
        self._last_auto = now
        return True

    @staticmethod
    def units_for(alarm: Alarm, positions: dict, k: int = 3, at_sea: bool = False):
        """The free units to offer: land units for an alarm on land; boats for one at sea, or
        the land units (to the shore) when no boat is known."""
        land = sorted({p[2] for p in positions.values()} - set(WATER_KINDS))
        if at_sea:
            boats = nearest_units(alarm.lon_wgs, alarm.lat_wgs, positions, free_only=True, k=k, kinds=WATER_KINDS)
            if boats:
                return boats
        return nearest_units(alarm.lon_wgs, alarm.lat_wgs, positions, free_only=True, k=k, kinds=land)


@dataclass
class Escalation:
    """Urgent alarms nobody has acknowledged: how many, how late, and when to ring again.

    An alarm of a priority in ``priorities`` still new ``ack_target_s`` after this workstation
    received it is overdue (the field's "60-second rapid response"); while any is, the sound
    repeats every ``repeat_s`` until someone acknowledges.
    """

    ack_target_s: float = 60.0
    repeat_s: float = 15.0
    priorities: tuple[int, ...] = (1, 2)
    _last_ring: float = field(default=-1e18, repr=False)

    def overdue(self, book: "AlarmBook", now: float) -> list[Alarm]:
        """Overdue alarms, most urgent first (``now`` on the service clock)."""
        out = []
        top = max(self.priorities)
        for a in book.sorted_alarms():
            if a.priority > top:
                break  # the book is sorted by priority: nothing urgent after this
            if (a.state == AlarmState.NEW and a.priority in self.priorities
                    and now - (a.received or a.epoch) > self.ack_target_s):
                out.append(a)
        return out

    def ring_due(self, overdue: list[Alarm], now: float) -> Alarm | None:
        """The alarm to ring for now, or None (nothing overdue, or it rang less than ``repeat_s``
        ago); ``now`` on the service clock, so a simulated clock paces the repeats too."""
        if not overdue or now - self._last_ring < self.repeat_s:
            return None
        self._last_ring = now
        return overdue[0]


@dataclass
class AlarmSettings:
    """The plugin's ``[plugins.alarms]`` configuration; every key optional."""

    ack_target_s: float = 60.0  # an urgent alarm unacknowledged this long is overdue
    repeat_s: float = 15.0  # an overdue alarm rings again this often
    escalate_priorities: tuple[int, ...] = (1, 2)
    auto_open_priorities: tuple[int, ...] = (1, 2, 3)  # alarms that put their cameras on the wall
    auto_open_interval_s: float = 3.0  # at most one automatic wall change this often
    max_cameras: int = 4  # cameras opened for one alarm
    sound: bool = True
    volume: int = 80  # percent of the sound files' level
    sound_device: str = ""  # ALSA device; "" = PINGAN_AUDIO_DEVICE, else "default"
    auto_centre: bool = True

    @classmethod
    def from_dict(cls, data: dict) -> tuple["AlarmSettings", list[str]]:
        """Settings from a config section, and an error naming each key that was wrong (left at
        its default: a typo must not take the alarm panel away)."""
        out, errors = cls(), []
        positive = ("ack_target_s", "repeat_s", "auto_open_interval_s")
        for key, value in (data or {}).items():
            if key in positive:
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                    errors.append(f"plugins.alarms.{key}: a positive number of seconds, not {value!r}")
                    continue
                setattr(out, key, float(value))
            elif key in ("escalate_priorities", "auto_open_priorities"):
                if not (isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool)
                                                        and 1 <= v <= 4 for v in value)):
                    errors.append(f"plugins.alarms.{key}: a list of priorities 1-4, not {value!r}")
                    continue
                setattr(out, key, tuple(value))
            elif key == "max_cameras":
                if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 36:
                    errors.append(f"plugins.alarms.{key}: a whole number 1-36, not {value!r}")
                    continue
                out.max_cameras = value
            elif key == "volume":
                if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
                    errors.append(f"plugins.alarms.{key}: a whole number 0-100 (percent), not {value!r}")
                    continue
                out.volume = value
            elif key == "sound_device":
                if not isinstance(value, str):
                    errors.append(f"plugins.alarms.{key}: an ALSA device name, not {value!r}")
                    continue
                out.sound_device = value.strip()
            elif key in ("sound", "auto_centre"):
                if not isinstance(value, bool):
                    errors.append(f"plugins.alarms.{key}: true or false, not {value!r}")
                    continue
                setattr(out, key, value)
            else:
                errors.append(f"plugins.alarms: unknown key {key!r}")
        return out, errors


@dataclass
class Batch:
    """What one drain of the service's events means for the UI."""

    new: list[Alarm] = field(default_factory=list)
    changed: bool = False
    rejected: dict | None = None
    patrol: list = field(default_factory=list)
    cameras: list = field(default_factory=list)
    journal_errors: list[str] = field(default_factory=list)

    def most_urgent_new(self) -> Alarm | None:
        return min(self.new, key=lambda a: a.sort_key()) if self.new else None


def summarize(events: list[AlarmEvent]) -> Batch:
    """Fold a drained list of events into one UI update."""
    b = Batch()
    for ev in events:
        if ev.kind == EventKind.NEW and ev.alarm is not None:
            b.new.append(ev.alarm)
            b.changed = True
        elif ev.kind in (EventKind.FOLDED, EventKind.UPDATED, EventKind.STATE_CHANGED, EventKind.FORGOTTEN):
            b.changed = True
        elif ev.kind == EventKind.REJECTED:
            b.rejected = dict(ev.counters or {})
        elif ev.kind == EventKind.PATROL and ev.patrol is not None:
            b.patrol.append(ev.patrol)
        elif ev.kind == EventKind.CAMERA_STATUS and ev.camera is not None:
            b.cameras.append(ev.camera)
        elif ev.kind == EventKind.JOURNAL_ERROR:
            b.journal_errors.append(ev.message)
    return b


class AlarmBook:
    """The panel's own sorted copy of the alarms, updated from drained events.

    Re-reading and re-sorting every alarm from the service on each refresh costs O(n log n)
    per frame under a flood; here each changed alarm is moved with a binary search, and
    a refresh only filters the already sorted list.
    """

    def __init__(self, alarms=()):
        import bisect
        self._bisect = bisect
        self._keys: list[tuple] = []
        self._items: list[Alarm] = []
        self._by_id: dict[str, Alarm] = {}
        for a in alarms:
            self.upsert(a)

    def __len__(self) -> int:
        return len(self._items)

    def get(self, alarm_id: str) -> Alarm | None:
        return self._by_id.get(alarm_id)

    def _unlink(self, old: Alarm) -> None:
        k = old.sort_key()
        i = self._bisect.bisect_left(self._keys, k)
        if i < len(self._keys) and self._keys[i] == k:
            del self._keys[i]
            del self._items[i]

    def upsert(self, alarm: Alarm) -> None:
        old = self._by_id.get(alarm.id)
        if old is not None:
            self._unlink(old)
        k = alarm.sort_key()
        i = self._bisect.bisect_left(self._keys, k)
        self._keys.insert(i, k)
        self._items.insert(i, alarm)
        self._by_id[alarm.id] = alarm

    def apply(self, events: list[AlarmEvent]) -> list[Alarm]:
        """Take every alarm snapshot carried by ``events``; returns the changed alarms (latest snapshots)."""
        changed: dict[str, Alarm] = {}
        for ev in events:
            if ev.alarm is not None and ev.kind in (EventKind.NEW, EventKind.FOLDED, EventKind.UPDATED,
                                                    EventKind.STATE_CHANGED):
                self.upsert(ev.alarm)
                changed[ev.alarm.id] = ev.alarm
            elif ev.alarm is not None and ev.kind == EventKind.FORGOTTEN:
                self.remove(ev.alarm.id)
                changed.pop(ev.alarm.id, None)
        return list(changed.values())

    def remove(self, alarm_id: str) -> None:
        """Take an alarm out of the book (closed past the retention)."""
        old = self._by_id.pop(alarm_id, None)
        if old is not None:
            self._unlink(old)

    def rows(self, filters: Filters, limit: int | None = None) -> list[Alarm]:
        """Alarms passing ``filters``, priority first then newest."""
        out = []
        words = filters.text.lower().split()
        for a in self._items:
            if filters.open_only and not a.is_open:
                continue
            if words:
                hay = " ".join((a.id, a.source, a.text, a.subdistrict, a.type_label, a.assigned_unit)).lower()
                if not all(w in hay for w in words):
                    continue
            if filters.type is not None and a.type != filters.type:
                continue
            if filters.state is not None and str(a.state) != filters.state:
                continue
            if filters.subdistrict is not None and a.subdistrict != filters.subdistrict:
                continue
            out.append(a)
            if limit is not None and len(out) >= limit:
                break
        return out

    def sorted_alarms(self) -> list[Alarm]:
        """Every alarm, priority first then newest (the book's own list: do not change it)."""
        return self._items

    def open_alarms(self) -> list[Alarm]:
        return [a for a in self._items if a.is_open]
