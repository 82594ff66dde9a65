"""Harness: targets under test, fault injection, capture and the ``gmc`` CLI."""
