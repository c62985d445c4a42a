"""Qt-free core: geodesy, district model, alarms, video decode, feeds, plugin API. Never imports Qt."""
