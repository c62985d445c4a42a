"""The bundled program's entry point (PyInstaller runs this file as ``__main__``)."""
import multiprocessing
import sys

if __name__ == "__main__":
    # The live feed runs in a "spawn" child process: in a frozen program the child is this
    # same executable, and freeze_support() turns it into the worker instead of a second GUI.
    multiprocessing.freeze_support()
    from desktop.cli import main
    sys.exit(main())
