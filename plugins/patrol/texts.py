"""The patrol panel's wording, free of Qt: why a unit is offered for a dispatch, and durations
(ETAs, stays at a stop) in the operator's words."""
from __future__ import annotations

from desktop.sdk import tr


def explain(opt) -> str:
    """Why a unit is offered: how its time was estimated, in the operator's words."""
    if opt.method == "route":
        return tr("{unit}: {path:.0f} m along the patrol routes ({access:.0f} m to the network, {egress:.0f} m "
                  "from it to the alarm) at {speed:.0f} km/h ≈ {eta}; {d:.0f} m in a straight line",
                  unit=opt.unit, path=opt.path_m, access=opt.access_m, egress=opt.egress_m, speed=opt.speed_kmh,
                  eta=_duration(opt.eta_s), d=opt.distance_m)
    return tr("{unit}: {d:.0f} m in a straight line at {speed:.0f} km/h ≈ {eta} (no route network near)",
              unit=opt.unit, d=opt.distance_m, speed=opt.speed_kmh, eta=_duration(opt.eta_s))


def _duration(s: float | None) -> str:
    if s is None or s != s:
        return "—"
    s = int(round(s))
    if s < 60:
        return tr("{s} s", s=s)
    if s < 3600:
        return tr("{m} min {s} s", m=s // 60, s=s % 60)
    return tr("{h} h {m} min", h=s // 3600, m=(s % 3600) // 60)
