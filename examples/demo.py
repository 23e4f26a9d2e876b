"""langmem's main job, offline: an agent keeps long-term memories about its users and finds them.

The same as ``langmem demo``; the code is in ``langmem/_demo.py``. Run it twice: the second run
finds what the first stored (the embedded store in ``LANGMEM_HOME`` or the user data folder).
"""

from langmem._demo import main

if __name__ == "__main__":
    main()
