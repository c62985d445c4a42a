"""Feeds, Qt-free: the in-process event bus (:mod:`.bus`), the payload schemas of the README's *Live feeds (MQTT)*
(:mod:`.schema`), the MQTT adapter that bridges a broker into the bus (:mod:`.mqtt`) and the
training scenario player that publishes a timeline onto it (:mod:`.scenario`).

Start consumers (the alarm service) before feeds and stop them after: a message published on
the bus with nobody subscribed is acknowledged to the broker and gone.
"""
