"""Fixtures of the system under test; the plugin behind them is ``gmc conform``'s."""

from __future__ import annotations

import pytest

from conformance import plugin

leader_sut = pytest.fixture(scope="module")(plugin.leader_sut)
fresh_sut = pytest.fixture(plugin.fresh_sut)
judge = pytest.fixture(plugin.judge)
