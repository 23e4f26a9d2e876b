"""``python -m langmem``: the same as the ``langmem`` command."""

from langmem.cli import main

if __name__ == "__main__":
    main()
