"""The user's own map layers: GeoJSON and KML files imported at run time (Qt-free)."""
