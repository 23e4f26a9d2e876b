"""Fixtures of the CLI tests."""

from __future__ import annotations

import pytest

from langmem.cli import _pipelines
from langmem.testing import ScriptedChatModel


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> ScriptedChatModel:
    """A scripted model the pipelines load instead of ``-m``'s; ``model.__dict__["asked"]``
    lists the specs they asked for."""
    scripted = ScriptedChatModel()
    asked: list[str] = []

    def load(spec: str) -> ScriptedChatModel:
        asked.append(spec)
        return scripted

    monkeypatch.setattr(_pipelines, "load_model", load)
    scripted.__dict__["asked"] = asked
    return scripted
