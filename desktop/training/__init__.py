"""Offline training.

Qt-free: the scenario check (:mod:`.scenario`), the session recording (:mod:`.recording`), the
score sheet (:mod:`.scoring`), the trainee history (:mod:`.history`), the replay state
(:mod:`.replay`) and the scenario generators (:mod:`.make_scenario`, :mod:`.make_sea_scenario`).
Qt: the training window's parts, the replay window and the scripted trainee (:mod:`.qt`), and
the headless run (:mod:`.headless`, ``python -m desktop.training run …``).
"""
