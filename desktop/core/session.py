"""The running services of one workstation, built from its configuration (Qt-free).

One event bus; one alarm service journaling to SQLite; and one feed — the MQTT broker when
``--broker`` is given, otherwise the scenario player replaying the district's demo scenario
(or ``--scenario``) so the program is alive offline with nothing installed beside it.
"""
from __future__ import annotations

import getpass
import logging
import os
import socket
from pathlib import Path


from desktop.core.alarms.service import AlarmService
from desktop.core.clock import RealClock
from desktop.core.config import Config
from desktop.core.district.model import District
from desktop.core.duty import Duty
from desktop.core.feeds.bus import EventBus
from desktop.core.geo.crs import MapProjection
from desktop.core.district.locator import SubdistrictLocator
from desktop.core.instance import claim_instance
from desktop.paths import data_dir

log = logging.getLogger("pingan.session")


class Session:
    """Bus, clock, alarm service and feed for one program run. ``start``/``stop`` are symmetric."""

    def __init__(self, cfg: Config, district: District, projection: MapProjection,
                 journal_path: Path | None = None, demo_feed: bool | None = None, stepped: bool = False):
        self.cfg = cfg
        # Training is offline whatever the configuration says: no broker, no feed process, no
        # live camera (the training window resolves cameras to clips), its own journal.
        self.training = cfg.mode == "training"
        self.training_scenario = None
        # stepped: the feeds' workers run only when step_feeds() is called (the headless
        # training run drives a paused clock step by step, so every run is the same)
        self.stepped = stepped
        self.district = district
        self.projection = projection
        self.bus = EventBus("local")
        # Two instances on one PC (a desk and its wall's process, a trainee beside a live desk)
        # must not share a workstation id, an MQTT client id or a journal: each run claims an
        # instance slot (a lock held while it lives; see desktop.core.instance), unless the
        # caller chose the journal itself (tests, tools).
        self.instance = claim_instance(data_dir(), name=cfg.instance, workstation=cfg.workstation) \
            if journal_path is None else None
        self.workstation = self.instance.workstation if self.instance else (cfg.workstation or socket.gethostname())
        self.duty = Duty(cfg.operator or _login())  # who is on duty; handed over at a change of shift
        self.scenario = None
        self.player = None
        self.feed = None
        broker = "" if self.training else cfg.broker
        if demo_feed is None:
            demo_feed = not broker and not os.environ.get("PINGAN_NO_DEMO_FEED")
        self.demo_feed = demo_feed
        scenario_dir = Path(cfg.scenario) if cfg.scenario else (district.info.path / "scenario"
                                                                 if district.info.path else None)
        if self.training:
            if not scenario_dir or not (scenario_dir / "scenario.toml").exists():
                from desktop.core.feeds.scenario import ScenarioError
                raise ScenarioError(f"{scenario_dir or 'scenario'}: no training scenario (scenario.toml) here")
            from desktop.training.scenario import load_training_scenario
            self.training_scenario = load_training_scenario(scenario_dir, district)
            self.scenario = self.training_scenario.base
        elif demo_feed and scenario_dir and (scenario_dir / "scenario.toml").exists():
            from desktop.core.feeds.scenario import load_scenario
            self.scenario = load_scenario(scenario_dir)
        if self.training and self.scenario is not None:
            self.clock = self.scenario.make_clock()
        else:
            self.clock = RealClock()
        if journal_path is None and self.training:
            # never the live journal: a scratch one of this process (the training window
            # passes the session's own folder instead)
            journal_path = data_dir() / "training" / f"scratch-{os.getpid()}" / "alarms-training.sqlite"
            journal_path.parent.mkdir(parents=True, exist_ok=True)
            for suffix in ("", "-wal", "-shm"):
                Path(str(journal_path) + suffix).unlink(missing_ok=True)
        if journal_path is None:
            tag = district.info.adcode or "district"
            if cfg.broker:
                journal_path = data_dir() / self.instance.file_name(f"alarms-{tag}")
            else:
                # The offline demo replays the same alarm ids each run: start it clean (its own
                # file: another instance's demo journal is not pulled from under it).
                journal_path = data_dir() / self.instance.file_name(f"demo-alarms-{tag}")
                for suffix in ("", "-wal", "-shm"):
                    Path(str(journal_path) + suffix).unlink(missing_ok=True)
        self.journal_path = journal_path
        # the sub-district of a position (the alarm panel's filter); handed to the feed process too
        self.locator = SubdistrictLocator.from_district(district, self.projection)
        # Live feeds run in a child process (paho + validation + journal are pure Python and
        # would compete with the GUI thread for the GIL); PINGAN_FEED_INPROCESS=1 keeps them here.
        self.remote = bool(broker) and not os.environ.get("PINGAN_FEED_INPROCESS")
        # Patrol positions are journaled where the feeds arrive (beside the alarm journal).
        stem = journal_path.stem
        self.patrol_journal_path = journal_path.with_name(
            (stem.replace("alarms", "patrol") if "alarms" in stem else f"{stem}-patrol") + ".sqlite")
        if not broker:
            for suffix in ("", "-wal", "-shm"):  # the demo replays the same units each run: start clean
                Path(str(self.patrol_journal_path) + suffix).unlink(missing_ok=True)
        self.patrol = None
        self.patrol_feed = None
        self.radar_feed = None  # radar tracks and the sea watch, when the feeds arrive in this process
        self.radar_demo = None
        if self.remote:
            from desktop.core.alarms.remote import RemoteAlarmService
            extras = {}
            if district.info.path is not None:
                extras["patrol"] = ("desktop.core.patrol_link:make_feed_process_patrol",
                                    {"journal": str(self.patrol_journal_path), "district": str(district.info.path),
                                     "retention_days": float(cfg.patrol_retention_days)})
                # radar reports are tracked and watched where they arrive, like the patrol's fixes
                extras["radar"] = ("desktop.core.radar.feed:make_feed_process_radar",
                                   {"district": str(district.info.path)})
            self.alarms = RemoteAlarmService(journal_path, broker_url=cfg.broker, workstation=self.workstation,
                                             clock=self.clock, locate=self.locate, locate_many=self.locate_many,
                                             locator=self.locator, extras=extras)
            if extras:
                from desktop.core.patrol_link import RemotePatrol
                self.patrol = RemotePatrol(self.alarms, self.patrol_journal_path)
        else:
            self.alarms = AlarmService(journal_path, clock=self.clock, workstation=self.workstation,
                                       bus=self.bus, locate=self.locate)
            from desktop.core.patrol.service import PatrolService
            from desktop.core.patrol_link import PatrolFeed
            self.patrol_feed = PatrolFeed(PatrolService(self.patrol_journal_path, district, clock=self.clock,
                                                        retention_days=cfg.patrol_retention_days),
                                          self.bus, self.alarms, threaded=not stepped)
            self.patrol = self.patrol_feed.service
            from desktop.core.radar.feed import RadarFeed
            self.radar_feed = RadarFeed(self.bus, district, clock=self.clock, expire_s=0.0 if stepped else 1.0)
        # The statistics: the journal's summaries get the district's zone and grid before the
        # first alarm is written; plugins read the figures through ``statistics``.
        from desktop.core.stats.service import attach_statistics
        self.statistics = attach_statistics(self)
        if self.training:
            # a training session's statistics are its own (its journal, on the simulated clock):
            # no bundled history built into every new session folder (that is ~30 s of the
            # plugins' two background workers, which the alarm panel needs for its unit offer)
            self.statistics.history_path = None

    @property
    def operator(self) -> str:
        """The name of the operator on duty now."""
        return self.duty.name

    @property
    def cameras(self):
        """The ``cameras`` service (one per session: the map, the status bar, the faulty list and
        plugins read the same camera states)."""
        if getattr(self, "_cameras", None) is None:
            from desktop.core.plugin_api.views import CameraView
            self._cameras = CameraView(self.district, self.alarms)
            # cameras still out of service when the journal was last written keep their since
            from desktop.core.camera_health import read_open_outages
            self._cameras.health.restore(read_open_outages(self.journal_path))
        return self._cameras

    def locate(self, lon_wgs: float, lat_wgs: float) -> str:
        """The sub-district of a WGS84 point (for the alarm panel's filter), or ''."""
        return self.locator.locate(lon_wgs, lat_wgs)

    def locate_many(self, lon_wgs, lat_wgs) -> list[str]:
        """:meth:`locate` for arrays of points at once (a batch of alarms)."""
        return self.locator.locate_many(lon_wgs, lat_wgs)

    def services(self) -> dict:
        """What plugins get through ``host.service(name)`` from this session."""
        out = {"alarms": self.alarms, "clock": self.clock, "operator": self.operator, "duty": self.duty,
               "session": self, "cameras": self.cameras}
        if self.patrol is not None:
            out["patrol"] = self.patrol
        out["statistics"] = self.statistics
        return out

    def start(self) -> "Session":
        self.alarms.start()
        if self.patrol_feed is not None:
            self.patrol_feed.start()
        if self.radar_feed is not None:
            self.radar_feed.start()
        if self.training and self.cfg.broker:
            log.info("training: the configured broker %s is not used", self.cfg.broker)
        if self.remote:
            log.info("live feeds from %s (feed process)", self.cfg.broker)
        elif self.cfg.broker and not self.training:
            from desktop.core.feeds.mqtt import MqttFeed
            self.feed = MqttFeed.from_url(self.cfg.broker, self.bus, workstation=self.workstation).start()
            log.info("live feeds from %s", self.cfg.broker)
        elif self.scenario is not None:
            from desktop.core.feeds.scenario import ScenarioPlayer
            loop = self.cfg.mode != "training"
            self.player = ScenarioPlayer(self.scenario, self.bus, clock=self.clock, loop=loop,
                                         on_loop=self._align_tours).start()
            log.info("demo feed: scenario %s (%d events)", self.scenario.name, len(self.scenario.events))
        if self.demo_feed and not self.training and not self.cfg.broker and not self._scenario_has_radar():
            # the offline demo's boats at sea (a scenario that plays radar reports itself has its own)
            from desktop.core.radar.demo import RadarDemo
            self.radar_demo = RadarDemo(self.district, self.bus, clock=self.clock).start()
        return self

    def _scenario_has_radar(self) -> bool:
        return self.scenario is not None and any(e.topic.startswith("pingan/radar/") for e in self.scenario.events)

    def step_feeds(self, timeout: float = 10.0) -> bool:
        """Stepped sessions: let every feed catch up with the clock — the scenario player has
        sent what is due, the alarm service has journaled it, the patrol feed has taken its
        positions and judged its post visits. True when all of it happened within ``timeout``."""
        import time as _t
        deadline = _t.monotonic() + timeout
        if self.player is not None:
            while not self.player.caught_up() and _t.monotonic() < deadline:
                _t.sleep(0.0005)
        ok = self.alarms.flush(max(0.1, deadline - _t.monotonic()))
        if getattr(self, "radar_feed", None) is not None:
            self.radar_feed.expire()  # targets silent for a while are lost, on this clock
        if self.patrol_feed is not None:
            self.patrol_feed.work(tick=True)
            ok = self.alarms.flush(max(0.1, deadline - _t.monotonic())) and ok  # a missed visit's alarm
        return ok and (self.player is None or self.player.caught_up())

    def _align_tours(self, t0: float) -> None:
        """Each pass of the scenario: judge the post visits it plays. The timeline was made at its
        own time of day; on the real clock (the offline demo) the schedule is shifted by the
        difference, so its patrols keep their appointments instead of every window being missed.
        On a simulated clock (training) the clock is at the scenario's time already."""
        if self.patrol_feed is None:
            return
        offset = t0 - self.scenario.start.timestamp()  # 0 on a simulated clock's first pass
        self.patrol.watch(t0, t0 + self.scenario.duration_s, offset_s=offset)

    def stop(self) -> None:
        if self.radar_demo is not None:
            self.radar_demo.stop()
        if self.player is not None:
            self.player.stop()
        if self.radar_feed is not None:
            self.radar_feed.stop()
        if self.feed is not None:
            self.feed.stop()
        if self.patrol_feed is not None:
            self.patrol_feed.stop()
        elif self.patrol is not None:
            self.patrol.close()
        self.alarms.stop()
        if self.instance is not None:
            self.instance.release()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """Block until the broker connection is up (True) or ``timeout`` passes."""
        if self.remote:
            return self.alarms.wait_connected(timeout)
        return self.feed.wait_connected(timeout) if self.feed is not None else False

    def feed_status(self) -> str:
        if self.remote:
            return self.alarms.feed_status
        if self.feed is not None:
            return self.feed.status
        if self.player is not None:
            return "training" if self.cfg.mode == "training" else "scenario"
        return "none"


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "operator"
