"""loss-service: exact, explainable softmax cross-entropy over HTTP."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("loss-service")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"
