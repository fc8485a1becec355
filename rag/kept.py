"""Values kept between processes: tables that take a second to make from a model or
dictionary file and a tenth of that to read back (CC-CEDICT parsed, tokenizer tables).

They are kept in ``$XDG_CACHE_HOME/rag`` (else ``~/.cache/rag``), each in a file named by
a hash of everything it depends on, so a new file, package or rule gets a new copy (and
the old one is removed). A copy that is missing or damaged is made again and replaced;
when none can be written, each process makes its own.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")


def folder() -> Path:
    """Where kept copies live: ``$XDG_CACHE_HOME/rag``, else ``~/.cache/rag``."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag"


def file_key(path: Path) -> str:
    """What a copy made from the file at ``path`` depends on of it: where, size, time."""
    stat = path.stat()
    return f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"


def kept(
    name: str,
    depends_on: str,
    make: Callable[[], T],
    dumps: Callable[[Any], bytes] = marshal.dumps,
    loads: Callable[[bytes], Any] = marshal.loads,
) -> T:
    """The value ``make()`` returns, read from the copy a previous process kept when
    there is one (``dumps`` / ``loads`` write and read it; marshal by default)."""
    key = f"{depends_on}|{getattr(dumps, '__module__', '')}|{marshal.version}"
    copy = folder() / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.kept"
    try:
        return loads(copy.read_bytes())  # type: ignore[no-any-return]
    except FileNotFoundError:
        pass
    except Exception as exc:  # any damage to the copy: make it again
        logger.info("the kept %s is unreadable (%s): made again", copy.name, exc)
    value = make()
    try:
        copy.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # copies may be pickles
        partial = copy.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(dumps(value))
        os.replace(partial, copy)
        for stale in copy.parent.glob(f"{name}-{'?' * 16}.kept"):  # made from what is gone
            if stale != copy:
                stale.unlink(missing_ok=True)
    except OSError as exc:
        logger.info("%s is not kept (%s): each process makes it", name, exc)
    return value
