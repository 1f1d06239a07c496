"""Data-contract registry: contract versions, the compatibility engine and the `contracts` CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    # one distribution (mdm-hub) carries both packages, so both report its version
    __version__ = version("mdm-hub")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
