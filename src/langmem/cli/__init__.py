"""The ``langmem`` command: inspect, search, fix and move memories; run the pipelines.

Noun-verb commands (``langmem memories search``, ``langmem store info``...) built on click, with
rich for tables and progress bars. Only this package imports click and rich, so ``import
langmem`` stays light. Output is JSON Lines on stdout (``--table`` for people); errors are one
line on stderr with a non-zero exit code (``--debug`` adds the traceback).
"""

from langmem.cli._app import cli, main

__all__ = ["cli", "main"]
