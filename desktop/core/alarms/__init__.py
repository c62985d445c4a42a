"""Alarms, Qt-free: the record and its workflow, flood control, the SQLite journal, the
service that runs them on a worker thread, and linkage (cameras that see a point, nearest
patrol units).

Import from the submodules (``desktop.core.alarms.service`` …); this package stays light
so that the feed schemas can import the alarm model without a cycle.
"""
