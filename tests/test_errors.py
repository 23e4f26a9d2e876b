"""The exception tree: ordinary Exceptions, with the standard bases users already catch."""

from __future__ import annotations

import inspect

import langmem.errors as errors


def test_every_error_derives_from_langmem_error_and_exception() -> None:
    classes = [
        c for _, c in inspect.getmembers(errors, inspect.isclass) if c.__module__ == errors.__name__
    ]
    assert len(classes) >= 7
    for cls in classes:
        assert issubclass(cls, errors.LangMemError)
        assert issubclass(cls, Exception)


def test_usage_errors_are_value_errors() -> None:
    for cls in (
        errors.ConfigurationError,
        errors.NamespaceError,
        errors.StoreNotFoundError,
        errors.InvalidInputError,
    ):
        assert issubclass(cls, ValueError)
    assert issubclass(errors.MissingDependencyError, ImportError)


def test_tree_in_docstring_lists_every_class() -> None:
    doc = errors.__doc__ or ""
    for name in errors.__all__:
        assert name in doc, f"{name} missing from the tree in the module docstring"


def test_model_output_error_carries_context() -> None:
    err = errors.ModelOutputError("bad", attempts=3, problems=["no tool call"])
    assert err.attempts == 3 and err.problems == ["no tool call"] and str(err) == "bad"
