"""The wall display (Qt-free): the layout document, its geometry over the wall's screens, the
last layout kept on disk, the MQTT link between workstations and walls, and the alarm takeover.

The wall PC runs ``pingan-desk --mode wall``; workstations publish layouts to it and it
publishes its state back. See the README's "Wall display" section for the document format.
"""
