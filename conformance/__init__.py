"""Conformance suite: plays peers and crafts frames at any gometa implementation."""
