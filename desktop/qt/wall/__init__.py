"""The wall display's windows (thin Qt views over :mod:`desktop.core.wall`)."""
