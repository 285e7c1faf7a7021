"""Executable documentation: run every runnable block of the docs against a live server and compare
(or, with ``--write``, rewrite) the outputs they show.

Where blocks are looked for: ``README.md``, ``docs/*.md`` and the module docstrings of ``examples/*.py``.

The conventions (the whole of them):

- A fenced block whose info string is ``console``: each line starting with ``$ `` is a shell command,
  continued on the next lines while it ends with a backslash or has an unclosed quote. The lines
  after it, up to a blank line or the next ``$ ``, are its output, exactly as printed.
- In an ``examples/*.py`` module docstring, the same: indented ``$ `` lines and their output.
- A fenced ``python`` block is run as a script (``python`` from this interpreter, the repository as
  working directory). A run of comment lines right after a line that starts with ``print(`` is what
  that print shows, one comment line per printed line, ``# `` stripped. The block must exit 0 even
  if it shows nothing. ``python norun`` marks a fragment that is only to be read.
- A fenced ``python`` block whose first line starts with ``>>>`` is a doctest: each example's
  expected output is compared, the examples sharing one namespace.

Runs go against a server this script starts on a free 127.0.0.1 port; ``http://127.0.0.1:8000`` and
``http://localhost:8000`` (and a bare ``127.0.0.1:8000``) in commands and code are rewritten to it, and back
in the outputs. A command starting with ``.venv/bin/`` runs from this interpreter's directory. Python
blocks that import the generated client (``loss_service_client``) run with a freshly generated one on
``PYTHONPATH``, as docs/clients.md has the reader do. Request ids (32 hex digits) are masked when
comparing; ``--write`` leaves a shown output alone when it differs only there.

    .venv/bin/python scripts/doc_outputs.py            # exit 1 and a diff when an output is stale
    .venv/bin/python scripts/doc_outputs.py --write    # rewrite the shown outputs in place
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import difflib
import io
import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from doctest import DocTestParser
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # tests/clients/live_server.py starts the server
from clients.live_server import running_server  # noqa: E402

DOC_URLS = ("http://127.0.0.1:8000", "http://localhost:8000")
REQUEST_ID = re.compile(r"\b[0-9a-f]{32}\b")
FENCE = re.compile(r"^(\s*)```(\S*)\s*(.*)$")
CLIENT_PACKAGE = "loss_service_client"
TIMEOUT = 300


@dataclass
class Span:
    """Lines ``start:end`` of the file show an output; each is ``prefix`` + one line of it."""

    start: int
    end: int
    prefix: str
    shown: list[str]


@dataclass
class Case:
    path: Path
    line: int  # 1-based, for messages
    kind: Literal["console", "python", "doctest"]
    source: str
    spans: list[Span] = field(default_factory=list)

    @property
    def where(self) -> str:
        path = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path
        return f"{path}:{self.line}"


def documents(root: Path = ROOT) -> list[Path]:
    return [
        root / "README.md",
        *sorted((root / "docs").glob("*.md")),
        *sorted((root / "examples").glob("*.py")),
    ]


# --- finding the blocks ---------------------------------------------------------------------------


def find_cases(path: Path) -> list[Case]:
    lines = path.read_text().splitlines()
    if path.suffix == ".py":
        return _docstring_cases(path, lines)
    cases: list[Case] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, lang, flags = opening.groups()
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
        body = range(i + 1, end)
        if lang == "console":
            cases += _console_cases(path, lines, body)
        elif lang == "python" and "norun" not in flags.split():
            first = next((lines[j].strip() for j in body if lines[j].strip()), "")
            make = _doctest_case if first.startswith(">>>") else _python_case
            cases.append(make(path, lines, body, indent))
        i = end + 1
    return cases


def _docstring_cases(path: Path, lines: list[str]) -> list[Case]:
    module = ast.parse("\n".join(lines))
    first = module.body[0] if module.body else None
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)):
        return []
    assert first.end_lineno is not None
    # The closing quotes' line is not part of any output.
    return _console_cases(path, lines, range(first.lineno - 1, first.end_lineno - 1))


def _console_cases(path: Path, lines: list[str], body: range) -> list[Case]:
    cases: list[Case] = []
    j = body.start
    while j < body.stop:
        text = lines[j].lstrip()
        if not text.startswith("$ "):
            j += 1
            continue
        prefix = lines[j][: len(lines[j]) - len(text)]
        start, command = j, text[2:]
        j += 1
        while j < body.stop and _incomplete(command):
            command += "\n" + lines[j].strip()
            j += 1
        out = j
        while (
            j < body.stop
            and lines[j].strip()
            and lines[j].startswith(prefix)
            and not lines[j].lstrip().startswith("$ ")
        ):
            j += 1
        shown = [line[len(prefix) :] for line in lines[out:j]]
        cases.append(Case(path, start + 1, "console", command, [Span(out, j, prefix, shown)]))
    return cases


def _incomplete(command: str) -> bool:
    if command.rstrip().endswith("\\"):
        return True
    try:
        shlex.split(command)
    except ValueError:  # an unclosed quote
        return True
    return False


def _python_case(path: Path, lines: list[str], body: range, indent: str) -> Case:
    source = "\n".join(line[len(indent) :] for line in lines[body.start : body.stop])
    case = Case(path, body.start + 1, "python", source)
    j = body.start
    while j < body.stop:
        if lines[j].lstrip().startswith("print("):
            prefix = lines[j][: len(lines[j]) - len(lines[j].lstrip())] + "# "
            k = j + 1
            while k < body.stop and lines[k].startswith(prefix):
                k += 1
            if k > j + 1:
                case.spans.append(Span(j + 1, k, prefix, [line[len(prefix) :] for line in lines[j + 1 : k]]))
            j = k
        else:
            j += 1
    return case


def _doctest_case(path: Path, lines: list[str], body: range, indent: str) -> Case:
    text = "\n".join(line[len(indent) :] for line in lines[body.start : body.stop]) + "\n"
    case = Case(path, body.start + 1, "doctest", text)
    for example in DocTestParser().get_examples(text):
        start = body.start + example.lineno + example.source.count("\n")
        shown = example.want.splitlines()
        case.spans.append(Span(start, start + len(shown), indent, shown))
    return case


# --- running them ---------------------------------------------------------------------------------


def to_live(text: str, url: str) -> str:
    """The docs' address made the live one: URLs, and the bare ``host:port`` V2 clients take."""
    for doc_url in DOC_URLS:
        text = text.replace(doc_url, url)
    return text.replace(DOC_URLS[0].removeprefix("http://"), url.removeprefix("http://"))


def run_case(case: Case, url: str, env: dict[str, str]) -> list[list[str]]:
    """The output of each of the case's spans, with the live URL written back as the docs' one."""
    if case.kind == "doctest":
        outputs = _run_doctest(case, url)
    else:
        if case.kind == "console":
            command = to_live(case.source, url)
            if command.startswith(".venv/bin/"):
                command = shlex.quote(str(Path(sys.executable).parent)) + command[len(".venv/bin") :]
            argv = ["bash", "-c", command]
        else:
            argv = [sys.executable, "-c", to_live(case.source, url)]
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        if done.returncode != 0:
            raise RuntimeError(f"{case.where}: exited with {done.returncode}:\n{done.stderr[-3000:]}")
        printed = done.stdout.splitlines()
        outputs = _split(printed, [len(span.shown) for span in case.spans])
    return [[line.replace(url, DOC_URLS[0]) for line in output] for output in outputs]


def _split(printed: list[str], counts: list[int]) -> list[list[str]]:
    """Printed lines spread over the spans by their shown lengths; what is left goes to the last one."""
    if not counts:
        return []
    out, at = [], 0
    for count in counts[:-1]:
        out.append(printed[at : at + count])
        at += count
    out.append(printed[at:])
    return out


def _run_doctest(case: Case, url: str) -> list[list[str]]:
    namespace: dict[str, object] = {"__name__": "__doc__"}
    outputs = []
    for example in DocTestParser().get_examples(case.source):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(to_live(example.source, url), case.where, "single"), namespace)
        outputs.append(buffer.getvalue().splitlines())
    return outputs


def masked(lines: list[str]) -> list[str]:
    return [REQUEST_ID.sub("<request-id>", line) for line in lines]


@dataclass
class Outcome:
    case: Case
    outputs: list[list[str]]

    @property
    def stale(self) -> list[int]:
        """Indexes of the spans whose shown output differs from the printed one."""
        return [i for i, span in enumerate(self.case.spans) if masked(span.shown) != masked(self.outputs[i])]

    def diff(self) -> str:
        parts = []
        for i in self.stale:
            shown, printed = self.case.spans[i].shown, self.outputs[i]
            parts += difflib.unified_diff(shown, printed, "shown", "printed", lineterm="")
        return "\n".join(parts)


@contextlib.contextmanager
def client_path(cases: list[Case]) -> Iterator[dict[str, str]]:
    """The environment for the runs: a generated client on PYTHONPATH if some block imports it."""
    env = dict(os.environ)
    if not any(case.kind == "python" and CLIENT_PACKAGE in case.source for case in cases):
        yield env
        return
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "scripts" / "generate_clients.py"),
                "--only",
                "python",
                "--python-out",
                out,
            ],
            check=True,
            capture_output=True,
        )
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [out, env.get("PYTHONPATH")]))
        yield env


def run_all(paths: list[Path], url: str) -> list[Outcome]:
    cases = [case for path in paths for case in find_cases(path)]
    with client_path(cases) as env:
        return [Outcome(case, run_case(case, url, env)) for case in cases]


def write(outcomes: list[Outcome]) -> list[Path]:
    """Rewrites each stale span in place (from the bottom up, so line numbers hold)."""
    by_path: dict[Path, list[tuple[Span, list[str]]]] = {}
    for outcome in outcomes:
        spans = outcome.case.spans
        counts_changed = [len(o) for o in outcome.outputs] != [len(s.shown) for s in spans]
        if outcome.case.kind == "python" and len(spans) > 1 and counts_changed:
            raise SystemExit(f"{outcome.case.where}: the prints' line counts changed; fix them by hand")
        for i in outcome.stale:
            by_path.setdefault(outcome.case.path, []).append((spans[i], outcome.outputs[i]))
    for path, changes in by_path.items():
        lines = path.read_text().splitlines()
        for span, output in sorted(changes, key=lambda change: -change[0].start):
            lines[span.start : span.end] = [(span.prefix + line).rstrip() for line in output]
        path.write_text("\n".join(lines) + "\n")
    return list(by_path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="files (default: README, docs, examples)")
    parser.add_argument("--write", action="store_true", help="rewrite stale outputs in place")
    args = parser.parse_args(argv)
    paths = [path.resolve() for path in args.paths] or documents()
    with running_server() as url:
        outcomes = run_all(paths, url)
    stale = [outcome for outcome in outcomes if outcome.stale]
    print(f"{len(outcomes)} runnable blocks, {len(stale)} with stale outputs")
    if args.write:
        for path in write(stale):
            print(f"rewrote {path.relative_to(ROOT)}")
        return 0
    for outcome in stale:
        print(f"\n{outcome.case.where} ({outcome.case.kind}):\n{outcome.diff()}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
