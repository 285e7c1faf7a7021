"""Every runnable block of README.md, docs/*.md and the examples shows what it really prints.

scripts/doc_outputs.py finds the blocks (its docstring has the conventions); here each one runs
against a live server and its shown output must equal the printed one, request ids masked.
`scripts/doc_outputs.py --write` regenerates them.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from clients.live_server import running_server

ROOT = Path(__file__).resolve().parents[2]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("doc_outputs", ROOT / "scripts" / "doc_outputs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["doc_outputs"] = module
    spec.loader.exec_module(module)
    return module


doc_outputs = _load()
CASES = [case for path in doc_outputs.documents() for case in doc_outputs.find_cases(path)]


@pytest.fixture(scope="module")
def live() -> Iterator[tuple[str, dict[str, str]]]:
    with running_server() as url, doc_outputs.client_path(CASES) as env:
        yield url, env


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[case.where for case in CASES])
def test_shown_output_is_printed_output(live: tuple[str, dict[str, str]], case: object) -> None:
    url, env = live
    outcome = doc_outputs.Outcome(case, doc_outputs.run_case(case, url, env))
    assert not outcome.stale, f"{outcome.diff()}\n(regenerate: python scripts/doc_outputs.py --write)"


def test_the_documents_have_runnable_blocks() -> None:
    kinds: dict[str, set[str]] = {}
    for case in CASES:
        kinds.setdefault(str(case.path.relative_to(ROOT)), set()).add(case.kind)
    assert kinds["README.md"] == {"console", "python", "doctest"}
    assert kinds["docs/clients.md"] == {"python"}
    for example in ("token_classification", "perplexity", "keras_probabilities"):
        assert kinds[f"examples/{example}.py"] == {"console"}
    shown = [span.shown for case in CASES if case.kind != "doctest" for span in case.spans]
    assert all(shown), "a command or print shows no output"


SAMPLE = """# Title

```console
$ printf '%s\\n' one \\
    "two three"
stale
```

```python
value = 6 * 7
print(value)
# 41
print("a\\nb")
# a
# c
```

```python norun
this is not run
```

```python
>>> 1 + 1
3
>>> print("x", "0123456789abcdef0123456789abcdef")
x 00000000000000000000000000000000
```
"""


def test_finds_checks_and_rewrites_a_document(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(SAMPLE)
    cases = doc_outputs.find_cases(page)
    assert [case.kind for case in cases] == ["console", "python", "doctest"]
    assert cases[0].source == "printf '%s\\n' one \\\n\"two three\""
    outcomes = [doc_outputs.Outcome(case, doc_outputs.run_case(case, "http://unused", {})) for case in cases]
    assert outcomes[0].outputs == [["one", "two three"]]
    assert outcomes[1].outputs == [["42"], ["a", "b"]]
    assert outcomes[2].outputs == [["2"], ["x 0123456789abcdef0123456789abcdef"]]
    assert [outcome.stale for outcome in outcomes] == [[0], [0, 1], [0]]  # the request id is masked
    assert doc_outputs.write([o for o in outcomes if o.stale]) == [page]
    text = page.read_text()
    assert "$ printf '%s\\n' one \\\n    \"two three\"\none\ntwo three\n```" in text
    assert "print(value)\n# 42\nprint" in text
    assert "# a\n# b\n```" in text
    assert ">>> 1 + 1\n2\n" in text
    assert "x 00000000000000000000000000000000" in text  # left alone: it differs only in the masked id
    assert all(
        not doc_outputs.Outcome(c, o.outputs).stale
        for c, o in zip(doc_outputs.find_cases(page), outcomes, strict=True)
    )


def test_a_failing_block_names_its_place(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("```python\nraise SystemExit(3)\n```\n")
    (case,) = doc_outputs.find_cases(page)
    with pytest.raises(RuntimeError, match=r"page.md:2: exited with 3"):
        doc_outputs.run_case(case, "http://unused", {})
