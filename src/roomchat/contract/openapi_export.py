"""The OpenAPI snapshot: src/roomchat/contract/openapi.json, what the server's
/openapi.json says, kept in the repository so the JavaScript SDK's types are generated
from it (clients/js) and a change to the REST contract shows in review.

    python -m roomchat.contract.openapi_export          # write the snapshot
    python -m roomchat.contract.openapi_export --check  # exit 1 if it is stale

tests/integration/test_openapi_contract.py fails while the snapshot differs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

SNAPSHOT = Path(__file__).resolve().with_name("openapi.json")


def document() -> dict[str, Any]:
    """What /openapi.json answers (it depends on no setting: the defaults will do)."""
    from roomchat.app import create_app  # the app, only when asked: not at import

    doc: dict[str, Any] = create_app().openapi()
    return doc


def encoded(doc: dict[str, Any]) -> str:
    """The snapshot's text: indented, keys in the document's order, one final newline."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m roomchat.contract.openapi_export")
    parser.add_argument("--check", action="store_true", help="exit 1 if the snapshot is stale")
    parser.add_argument("--output", type=Path, default=SNAPSHOT, help="where to write it")
    args = parser.parse_args(argv)
    text = encoded(document())
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is stale: run python -m roomchat.contract.openapi_export")
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
