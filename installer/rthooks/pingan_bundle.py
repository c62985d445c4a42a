"""PyInstaller runtime hook: point PROJ at the data folder inside the bundle.

pyproj looks in its own ``proj_dir/share/proj`` first, which the bundle has; setting
``PROJ_DATA`` as well keeps a PROJ_DATA/PROJ_LIB left in the user's environment (by a GIS
package installed on the same PC, often an older PROJ) from being used by the PROJ C library
for grids and the database.
"""
import os
import sys

_base = getattr(sys, "_MEIPASS", None)
if _base:
    _proj = os.path.join(_base, "pyproj", "proj_dir", "share", "proj")
    if os.path.isfile(os.path.join(_proj, "proj.db")):
        os.environ["PROJ_DATA"] = _proj
        os.environ["PROJ_LIB"] = _proj  # PROJ < 9.1 reads this name
