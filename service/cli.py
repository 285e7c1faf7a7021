"""The ``loss-service`` command: ``loss-service [serve]`` starts the server; ``loss-service evaluate``
evaluates a dataset against running servers."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["evaluate"]:
        from .evaluate.cli import main as evaluate

        return evaluate(args[1:])
    if args[:1] in ([], ["serve"]):
        from .server import serve

        serve()
        return 0
    print(
        "usage: loss-service [serve] | loss-service evaluate --help\n"
        "settings come from LOSS_SERVICE_* environment variables (see README)",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
