"""The attack suite: each test attacks a real `roomchat serve` process (SQLite and
PostgreSQL, via the shared ``backend``/``server`` fixtures of tests/conftest.py) the way
docs/security.md describes, and asserts what the attacker gets."""
