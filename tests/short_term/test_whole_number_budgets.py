"""Token budgets given as whole floats or numpy integers (a config file, a computed 0.5 * n)
work like the int: `max_tokens=2000.0` was refused as "not a whole number of tokens"."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from langmem.errors import ConfigurationError
from langmem.short_term import SummarizationNode, summarize_messages
from langmem.testing import ScriptedChatModel

MESSAGES = [
    {"role": "user" if n % 2 == 0 else "assistant", "content": f"turn {n} " + "word " * 60}
    for n in range(12)
]


def _summarized(**budget: Any) -> list[Any]:
    model = ScriptedChatModel(default="the summary")
    result = summarize_messages(MESSAGES, running_summary=None, model=model, **budget)
    return [(type(m).__name__, m.content) for m in result.messages]


@pytest.mark.parametrize(
    "budget",
    [
        {"max_tokens": 600.0},
        {"max_tokens": np.int64(600)},
        {"max_tokens": 600, "max_summary_tokens": 128.0},
        {"max_tokens": 600, "max_tokens_before_summary": np.int32(600)},
    ],
    ids=["float", "numpy", "summary-float", "threshold-numpy"],
)
def test_whole_number_budgets_work_like_ints(budget: dict[str, Any]) -> None:
    expected = _summarized(**{k: int(v) for k, v in budget.items()})
    assert _summarized(**budget) == expected
    SummarizationNode(model=ScriptedChatModel(default="s"), **budget)  # accepted too


@pytest.mark.parametrize("value", [600.5, float("nan"), float("inf"), "600", True])
def test_other_budgets_are_still_refused_by_name(value: Any) -> None:
    with pytest.raises(ConfigurationError, match=rf"max_tokens={value!r} is not a whole number"):
        _summarized(max_tokens=value)
