"""Patrol core, Qt-free: units, the position journal, trips and stops, tours, coverage,
dispatch, and the replay model, tied together by :class:`~.service.PatrolService`.

Import from the submodules (``desktop.core.patrol.service`` …). This package module stays
empty on purpose: the district loader reads the schedule format (:mod:`.schedule`) and must
not pull in the journal or the route graph to do so.
"""
