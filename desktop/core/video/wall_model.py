"""The video wall's model: which camera is in which tile, the layout, and the tour (Qt-free).

One model for every place a video wall is described: the operator's wall widget
(:class:`desktop.qt.video.wall.VideoWall` keeps its players in step with it), the video regions
of the wall display, and the layout documents workstations publish (``state()`` is the
``video`` object of a wall layout region: ``{"layout", "tiles", "tour"?}``).

Tiles hold camera ids; a layout that shrinks keeps the cameras of the tiles it hides (they come
back with a larger layout), as the widget does with their players. Tours are planned here:
:meth:`VideoWallModel.tour_step` says what the next step changes, the caller carries it out.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .layouts import MAX_TILES, get_layout, validate_state

__all__ = ["TourPlan", "TourAction", "VideoWallModel"]


@dataclass
class TourPlan:
    """A running tour: ``group`` paged over the wall, one camera at a time in ``tile``, or
    (``enlarge``) each open tile enlarged in turn."""

    group: list = field(default_factory=list)  # camera ids
    interval_s: float = 10.0
    tile: int | None = None
    enlarge: bool = False
    pos: int = 0

    def to_json(self) -> dict:
        return {"cameras": list(self.group), "interval_s": self.interval_s, "tile": self.tile}


@dataclass(frozen=True)
class TourAction:
    """One change of a tour step: ``open`` camera ``camera`` in ``tile`` (with ``label``),
    ``close`` ``tile``, ``enlarge`` ``tile``, or ``stop`` the tour."""

    kind: str
    tile: int = -1
    camera: str | None = None
    label: str = ""


class VideoWallModel:
    """Layout, tile cameras and tour of one video wall (see the module docstring)."""

    def __init__(self, layout: str = "4"):
        self.layout_name = ""
        self.cameras: list[str | None] = [None] * MAX_TILES
        self.tour: TourPlan | None = None
        self._round_robin = 0
        self.set_layout(layout)

    # -- layout and tiles -------------------------------------------------------------------
    @property
    def tile_count(self) -> int:
        return get_layout(self.layout_name).count

    def set_layout(self, name: str) -> bool:
        """Switch layouts (``KeyError`` for an unknown one); False when it is the current one."""
        lay = get_layout(name)
        if lay.name == self.layout_name:
            return False
        self.layout_name = lay.name
        return True

    def assign(self, tile: int, camera_id: str | None) -> None:
        if not 0 <= tile < MAX_TILES:
            raise IndexError(f"tile {tile} outside 0..{MAX_TILES - 1}")
        self.cameras[tile] = camera_id or None

    def clear(self, tile: int) -> None:
        self.assign(tile, None)

    def swap(self, a: int, b: int) -> None:
        self.cameras[a], self.cameras[b] = self.cameras[b], self.cameras[a]

    def shown(self) -> list[str | None]:
        """The cameras of the tiles the layout shows."""
        return self.cameras[:self.tile_count]

    def index_of(self, camera_id: str) -> int | None:
        for i, c in enumerate(self.shown()):
            if c == camera_id:
                return i
        return None

    def free_tile(self, selected: int | None = None) -> int:
        """Where a camera goes when no tile is named: the first empty tile, else the selected
        one, else the tiles in turn."""
        n = self.tile_count
        for i, c in enumerate(self.cameras[:n]):
            if c is None:
                return i
        if selected is not None and 0 <= selected < n:
            return selected
        i = self._round_robin % n
        self._round_robin = i + 1
        return i

    # -- states -----------------------------------------------------------------------------
    def state(self, with_tour: bool = False) -> dict:
        """``{"layout", "tiles"}`` (and ``"tour"`` when asked and running): a saved layout, or the
        video object of a wall layout region."""
        out = {"layout": self.layout_name, "tiles": list(self.shown())}
        if with_tour and self.tour is not None and not self.tour.enlarge:
            out["tour"] = self.tour.to_json()
        return out

    @classmethod
    def from_state(cls, state: dict) -> "VideoWallModel":
        m = cls()
        m.apply_state(state)
        return m

    def apply_state(self, state: dict) -> dict:
        """Take a layout state (validated: ``ValueError`` names what is wrong); tiles beyond its
        count are emptied. Returns the clean state."""
        clean = validate_state(state)
        self.tour = None
        self.set_layout(clean["layout"])
        for i in range(MAX_TILES):
            self.cameras[i] = clean["tiles"][i] if i < len(clean["tiles"]) else None
        return clean

    # -- tours ------------------------------------------------------------------------------
    def start_tour(self, group: list, interval_s: float = 10.0, tile: int | None = None) -> TourPlan | None:
        group = [str(g) for g in group if g]
        self.tour = TourPlan(group, float(interval_s), tile) if group else None
        return self.tour

    def start_enlarge_tour(self, interval_s: float = 10.0) -> TourPlan | None:
        if not any(self.shown()):
            self.tour = None
            return None
        self.tour = TourPlan([], float(interval_s), None, enlarge=True)
        return self.tour

    def stop_tour(self) -> TourPlan | None:
        was, self.tour = self.tour, None
        return was

    def tour_step(self, enlarged: int | None = None, page_label: str = "Tour") -> list[TourAction]:
        """The changes of the next tour step (the model's tiles are updated for ``open`` and
        ``close``); ``page_label`` is the translated word shown on touring tiles."""
        tour = self.tour
        if tour is None:
            return []
        if tour.enlarge:
            used = [i for i, c in enumerate(self.shown()) if c is not None]
            if not used:
                self.tour = None
                return [TourAction("stop")]
            nxt = used[tour.pos % len(used)]
            tour.pos += 1
            return [] if enlarged == nxt else [TourAction("enlarge", nxt)]
        group, pos = tour.group, tour.pos
        out: list[TourAction] = []
        if tour.tile is None:
            n = self.tile_count
            if len(group) <= n and pos > 0:
                return []  # everything is on the wall already: nothing to cycle
            pages = max(1, -(-len(group) // n))
            page = pos // n
            for k in range(n):
                i = pos + k
                if i < len(group):
                    self.cameras[k] = group[i]
                    out.append(TourAction("open", k, group[i], f"{page_label} {page + 1}/{pages}"))
                else:
                    self.cameras[k] = None
                    out.append(TourAction("close", k))
            tour.pos = pos + n if pos + n < len(group) else 0
        else:
            idx = tour.tile
            cid = group[pos % len(group)]
            self.cameras[idx] = cid
            out.append(TourAction("open", idx, cid, f"{page_label} {pos % len(group) + 1}/{len(group)}"))
            tour.pos = (pos + 1) % len(group)
        return out


