"""Where langmem keeps user data (the default memory store).

``LANGMEM_HOME`` wins when set. Otherwise the platform's user data folder:
``$XDG_DATA_HOME/langmem`` (default ``~/.local/share/langmem``) on Linux and other Unixes,
``~/Library/Application Support/langmem`` on macOS, ``%LOCALAPPDATA%\\langmem`` on Windows.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HOME_ENV = "LANGMEM_HOME"


def data_dir() -> Path:
    """The folder holding langmem's user data (the store creates it when it first writes).

    Example:
        >>> import os
        >>> os.environ["LANGMEM_HOME"] = "/tmp/langmem-doc"
        >>> str(data_dir())
        '/tmp/langmem-doc'
    """
    override = os.environ.get(HOME_ENV, "").strip()
    if override:
        path = Path(override).expanduser()
    elif sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        path = Path(base) / "langmem"
    elif sys.platform == "darwin":
        path = Path.home() / "Library" / "Application Support" / "langmem"
    else:
        xdg = os.environ.get("XDG_DATA_HOME", "").strip()
        path = (Path(xdg) if xdg else Path.home() / ".local" / "share") / "langmem"
    return path
