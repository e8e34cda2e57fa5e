"""The docs' screenshots and the browser tests that take them agree (issue 25).

Every picture in docs/screenshots is taken by a `shot(page, screenshot_dir, "<name>")`
call in tests/browser (so `make screenshots` remakes it: none can go stale), every
picture a test takes is there (run `make screenshots` after adding one), no two calls
take the same picture, and every picture README.md and docs/*.md show exists.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOTS_DIR = ROOT / "docs" / "screenshots"
BROWSER_TESTS = ROOT / "tests" / "browser"
# A picture as a Markdown document names it: docs/screenshots/x.png from README.md,
# screenshots/x.png from docs/*.md (an image or a plain link).
REFERENCE = re.compile(r"(?:^|[(\s\"'/])((?:docs/)?screenshots/[^)\s\"'#?]+\.png)")


def shot_calls() -> list[tuple[str, int, ast.expr]]:
    """(file, line, the name argument) of every shot(...) call in the browser tests."""
    calls = []
    for path in sorted(BROWSER_TESTS.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "shot"
            ):
                assert len(node.args) == 3, f"{path.name}:{node.lineno}: shot(page, dir, name)"
                calls.append((path.name, node.lineno, node.args[2]))
    return calls


def plain_names(arg: ast.expr) -> list[str] | None:
    """The names a shot's argument can take: a plain string, or a choice between two
    (``"phone-x" if size == PHONE else "desktop-x"``); None for anything else."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return [arg.value]
    if isinstance(arg, ast.IfExp):
        body, orelse = plain_names(arg.body), plain_names(arg.orelse)
        if body is not None and orelse is not None:
            return body + orelse
    return None


def shot_names() -> list[str]:
    names = []
    for filename, line, arg in shot_calls():
        found = plain_names(arg)
        assert found is not None, (
            f"{filename}:{line}: a shot's name must be a plain string (or a choice of two), "
            "so that it can be checked"
        )
        names.extend(found)
    return names


def pictures() -> set[str]:
    return {p.stem for p in SHOTS_DIR.glob("*.png")}


def test_the_browser_tests_take_pictures() -> None:
    assert len(shot_names()) >= 10, "no shot() calls found: has shot() been renamed?"


def test_every_picture_is_taken_by_a_browser_test() -> None:
    stale = sorted(pictures() - set(shot_names()))
    assert not stale, (
        f"no browser test takes {stale}: delete them from docs/screenshots, "
        "or take them again with shot() (then `make screenshots`)"
    )


def test_every_picture_a_test_takes_is_in_the_docs() -> None:
    missing = sorted(set(shot_names()) - pictures())
    assert not missing, f"run `make screenshots`: docs/screenshots lacks {missing}"


def test_no_two_calls_take_the_same_picture() -> None:
    twice = sorted(name for name, n in Counter(shot_names()).items() if n > 1)
    assert not twice, f"taken by more than one shot() call (one would overwrite the other): {twice}"


def test_every_picture_the_docs_show_exists() -> None:
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    referenced = 0
    broken = []
    for doc in documents:
        for ref in REFERENCE.findall(doc.read_text(encoding="utf-8")):
            referenced += 1
            if not (doc.parent / ref).is_file():
                broken.append(f"{doc.relative_to(ROOT)}: {ref}")
    assert referenced, "README.md shows no screenshot"
    assert not broken, f"pictures the docs show that do not exist: {broken}"
