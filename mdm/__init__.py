"""MDM Hub. The version comes from the installed distribution's metadata (pyproject.toml)."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mdm-hub")
except PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"
