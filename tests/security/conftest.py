"""The attack suite: each test attacks a real `roomchat serve` process (SQLite and
PostgreSQL, via the shared ``backend``/``server`` fixtures of tests/conftest.py) the way
docs/security.md describes, and asserts what the attacker gets.

Every frame a test sends or receives through tests/support/client.py is checked against
the AsyncAPI document (the autouse fixture below, tests/support/contract.py)."""

from tests.support.contract import frames_follow_the_document  # noqa: F401 - autouse
