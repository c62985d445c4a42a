"""Live video, Qt-free: stream sources (RTSP, pseudo-live files), decode workers that convert
to the tile's size in their own threads, the latest-frame hand-off, the overload scheduler,
and the generated demo clips. The Qt wall (``desktop.qt.video``) only paints what these give.
"""
