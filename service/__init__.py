"""loss-service: exact, explainable cross-entropy losses and metrics over HTTP (REST and KServe V2)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("loss-service")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
