"""The ``loss-service`` command: ``loss-service [serve]`` starts the server; ``loss-service evaluate``
evaluates a dataset against running servers; ``--help`` and ``--version`` explain the rest."""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from typing import NoReturn

from . import __version__
from .config import Settings

PROG = "loss-service"
COMMANDS = {
    "serve": "start the HTTP server (the default when no command is given)",
    "evaluate": "evaluate a whole dataset file in chunks against running servers, combined exactly",
}
EXIT_USAGE = 2
# What a user who has not read --help types to set a setting: --port, --max-body-bytes, ...
SETTING_FLAGS = {f"--{name.replace('_', '-')}": name for name in Settings.model_fields}


def settings_help() -> str:
    """Every setting, from the same definitions the server reads, so this list cannot go stale."""
    lines = ["settings (environment variables, read by serve):"]
    width = max(map(len, Settings.model_fields))
    for name, field in Settings.model_fields.items():
        value = field.get_default(call_default_factory=True)
        default = "unset" if value is None else repr(value)
        lines.append(f"  LOSS_SERVICE_{name.upper():<{width}}  {field.description or ''} (default {default})")
    return "\n".join(lines)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error also says what to type instead."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        lines = [f"{self.prog}: error: {message}", *(f"  {hint}" for hint in hints(message))]
        lines.append(f"  see: {PROG} --help")
        self.exit(EXIT_USAGE, "\n".join(lines) + "\n")


def hints(message: str) -> list[str]:
    """What to type instead, read off argparse's message: the command meant, or the setting's variable."""
    found: list[str] = []
    choice = re.search(r"invalid choice: '([^']*)'", message)
    if choice:
        close = difflib.get_close_matches(choice.group(1), COMMANDS, n=1, cutoff=0.5)
        found.append(f"did you mean: {PROG} {close[0]}" if close else f"commands: {', '.join(COMMANDS)}")
    unknown = re.search(r"unrecognized arguments: (.*)", message)
    words = unknown.group(1).split() if unknown else []
    for i, word in enumerate(words):
        flag, _, value = word.partition("=")
        if flag in SETTING_FLAGS:
            value = value or (words[i + 1] if i + 1 < len(words) else "VALUE")
            variable = f"LOSS_SERVICE_{SETTING_FLAGS[flag].upper()}"
            found.append(f"settings are environment variables: {variable}={value} {PROG} serve")
    return found


def setting_flags(args: list[str]) -> list[str]:
    """``--port 9000``-style arguments, with their values: the user meant a setting."""
    out: list[str] = []
    for i, arg in enumerate(args):
        flag, equals, _ = arg.partition("=")
        if flag in SETTING_FLAGS:
            out.append(arg)
            if not equals and i + 1 < len(args) and not args[i + 1].startswith("-"):
                out.append(args[i + 1])
    return out


def build_parser() -> Parser:
    epilog = "\n".join(
        [
            "examples:",
            f"  {PROG}                                   serve on http://127.0.0.1:8000",
            f"  LOSS_SERVICE_HOST=0.0.0.0 LOSS_SERVICE_PORT=9000 {PROG} serve",
            f"  {PROG} evaluate data.npz --url http://127.0.0.1:8000 -o result.json",
            f"  {PROG} evaluate --help                   every option of evaluate, with examples",
            "",
            settings_help(),
            "",
            "Once serving: the interactive API docs are at /docs and /redoc, the OpenAPI document at",
            "/openapi.json, the limits in force at /v1/info.",
        ]
    )
    parser = Parser(
        prog=PROG,
        description="Exact, explainable softmax cross-entropy over HTTP.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    commands.add_parser(
        "serve",
        help=COMMANDS["serve"],
        description="Start the HTTP server with the settings from the environment.\n"
        "On SIGTERM it drains: /readyz answers 503 for LOSS_SERVICE_DRAIN_SECONDS, then the\n"
        "server stops taking connections, finishes the requests in flight and exits 0.",
        epilog=settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # Listed here for --help; its arguments are parsed by service/evaluate/cli.py.
    commands.add_parser("evaluate", help=COMMANDS["evaluate"], add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["evaluate"]:
        from .evaluate.cli import main as evaluate

        return evaluate(args[1:])
    parser = build_parser()
    if misplaced := setting_flags(args):
        parser.error(f"unrecognized arguments: {' '.join(misplaced)}")
    parser.parse_args(args)  # --help, --version and usage errors exit here; what is left is serve
    from .server import serve

    return serve()


if __name__ == "__main__":
    raise SystemExit(main())
