"""``python -m desktop.core.district.generate ADCODE OUT_DIR [--seed N]``."""
import sys

from desktop.core.district.generate.build import main

sys.exit(main())
