"""Subtasks and order: the API served in the test's own loop (tests/feed/conftest.py), so requests overlap."""

from tests.feed.conftest import http

__all__ = ["http"]
