"""Offline training, Qt-free: the demo scenario generator (:mod:`.make_scenario`) and the scoring
of a session against a scenario's expected responses (:mod:`.scoring`)."""
