"""``langmem demo``: the offline main-job demo (no API key; see ``langmem/_demo.py``)."""

from __future__ import annotations

import click

from langmem.cli._app import debug_option


@click.command()
@debug_option
def demo() -> None:
    """Run the offline demo: an agent stores memories about two users, then finds them.

    Uses the default store (LANGMEM_STORE, else the user data folder), so a second run finds
    what the first stored. The model is scripted; the tools, store and embeddings are real.
    """
    from langmem._demo import main
    from langmem.cli._streams import refuse_closed_stdout

    refuse_closed_stdout("the demo's output")
    main(click.echo)
