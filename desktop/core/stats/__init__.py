"""Statistics over the alarm journal (Qt-free): summary tables kept as events are journaled,
the figures a center reports read from them, camera coverage per grid cell, and the bundled
history of the embedded default."""
