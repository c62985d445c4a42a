"""``python -m desktop.training run SCENARIO --autopilot --speed 60 --json`` (see :mod:`.headless`)."""
import sys

from desktop.training.headless import main

sys.exit(main())
