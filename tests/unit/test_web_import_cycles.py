"""The web client's modules import each other in no cycle (scripts/check-js-cycles.mjs).

The script also runs in ``make lint`` and ``make test``; here it is run on the real client
and on small made-up clients, so that a check that quietly sees no imports cannot pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check-js-cycles.mjs"
WEB = ROOT / "src" / "roomchat" / "web"


def check(web_root: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("node not found: the web client's import check cannot run")
        pytest.skip("node not found")
    return subprocess.run(
        [node, str(SCRIPT), str(web_root)], capture_output=True, text=True, timeout=60
    )


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_web_client_has_no_import_cycle() -> None:
    result = check(WEB)
    assert result.returncode == 0, result.stderr
    modules = len(list(WEB.rglob("*.js")))
    assert f"no import cycles among the {modules} modules" in result.stdout


def test_a_cycle_is_named_module_by_module(tmp_path: Path) -> None:
    web = write(
        tmp_path,
        {
            "app.js": 'import { a } from "/js/a.js";\na();\n',
            # Absolute and relative specifiers, one import spread over lines.
            "js/a.js": 'import {\n  b,\n} from "/js/b.js";\nexport function a() { b(); }\n',
            "js/b.js": 'import { c } from "./c.js";\nexport function b() { c(); }\n',
            "js/c.js": 'export { a as again } from "/js/a.js";\nexport function c() {}\n',
        },
    )
    result = check(web)
    assert result.returncode == 1
    assert "3 modules import each other: js/a.js, js/b.js, js/c.js" in result.stderr
    assert "js/a.js -> js/b.js -> js/c.js -> js/a.js" in result.stderr


def test_an_import_in_a_comment_is_no_edge(tmp_path: Path) -> None:
    web = write(
        tmp_path,
        {
            "js/a.js": 'import { b } from "/js/b.js";\nexport const a = () => b();\n',
            "js/b.js": '// import { a } from "/js/a.js";\n/* import "/js/a.js"; */\n'
            "export const b = () => 1;\n",
        },
    )
    result = check(web)
    assert result.returncode == 0, result.stderr
