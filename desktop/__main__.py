"""``python -m desktop`` is the same as ``pingan-desk``."""
import sys

from desktop.cli import main

sys.exit(main())
