"""File operations inside a results folder that never leave it and never hang.

Every write goes to a new temporary dot-file (created exclusively, never
through a symbolic link), is synced, and is renamed into place; a file of the
folder's own (``_sweep.json``, ``_manifest.jsonl``, ``.lock``,
``_quarantine/``, ``_report/``) that is a symbolic link is refused, not
followed, so nothing outside the folder is written or moved. Parts are
opened only if they are regular files: a FIFO, a device or a link is never
opened for reading, so a hostile folder cannot block or flood a reader.
Every failure is one line, as a :class:`~sweep.errors.SweepError`.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from ..errors import SweepError

TMP_PREFIX = ".tmp-"
_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC


class NotRegular(OSError):
    """A path that is not a regular file (``kind`` says what it is)."""

    def __init__(self, path: Path, kind: str):
        super().__init__(errno.EINVAL, f"not a regular file ({kind})", str(path))
        self.kind = kind


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def refuse_link(path: Path) -> None:
    """SweepError if ``path`` is a symbolic link: a results folder's own files are
    never written, moved or created through one."""
    if path.is_symlink():
        raise SweepError(
            f"{path} is a symbolic link (to {os.readlink(path)}); a results folder's own "
            "files are never written through one: remove the link"
        )


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading if it is a regular file (never following a link,
    never blocking on a FIFO); :class:`NotRegular` otherwise."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | _NOFOLLOW)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise NotRegular(path, "a symbolic link") from None
        raise
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotRegular(path, _kind(mode))
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_regular(path: Path) -> bytes:
    """The bytes of a regular file (see :func:`open_regular`)."""
    with open_regular(path) as f:
        return f.read()


def _write_all(fd: int, data: bytes | memoryview) -> None:
    """Write every byte (a short write is continued; a failed one raises OSError)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.EIO, "nothing written")
        view = view[written:]


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Temporary:
    """A new temporary dot-file being written (a binary file for pyarrow's writer too);
    :meth:`commit` makes it ``path``."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self.fd = fd
        self.closed = False

    def write(self, data) -> int:
        _write_all(self.fd, data)
        return len(data)

    def flush(self) -> None:
        pass

    def commit(self, path: Path) -> None:
        """Sync the file, then rename it to ``path`` (never onto a link), durably."""
        refuse_link(path)
        try:
            os.fsync(self.fd)
            os.replace(self.path, path)
            _sync_folder(path.parent)
        except OSError as e:
            raise SweepError(f"cannot write {path}: {e.strerror or e}") from None


@contextmanager
def temporary(folder: Path, target: str | None = None) -> Iterator[Temporary]:
    """A new temporary dot-file in ``folder`` (created exclusively, not through a
    link), open for writing; removed unless committed before the block ends. An
    OSError in the block is one line (SweepError) naming ``target`` (what the
    file is to become)."""
    tmp = folder / f"{TMP_PREFIX}{uuid.uuid4().hex}"
    what = target or f"a file in {folder}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o644)
    except OSError as e:
        raise SweepError(f"cannot write {what}: {e.strerror or e}") from None
    try:
        yield Temporary(tmp, fd)
    except OSError as e:
        raise SweepError(f"cannot write {what}: {e.strerror or e}") from None
    finally:
        os.close(fd)
        tmp.unlink(missing_ok=True)


def write_atomic(
    path: Path,
    data: bytes | Callable[[Temporary], None],
    before_rename: Callable[[], None] | None = None,
) -> None:
    """Write ``data`` (bytes, or a function writing to a binary file) to a temporary
    dot-file, sync it, call ``before_rename()``, rename it to ``path`` and sync
    the folder. Any failure is one line (SweepError) and leaves no temporary file."""
    refuse_link(path)
    with temporary(path.parent, str(path)) as f:
        data(f) if callable(data) else f.write(data)
        if before_rename is not None:
            before_rename()
        f.commit(path)


def append(path: Path, data: bytes) -> None:
    """Append ``data`` to ``path`` (created if need be, never through a link) and sync
    it. A failure (a full disk, a file-size limit) leaves the file as it was."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW, 0o644)
    except OSError as e:
        if e.errno == errno.ELOOP:
            refuse_link(path)
        raise SweepError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        size = os.fstat(fd).st_size
        try:
            _write_all(fd, data)
            os.fsync(fd)
        except OSError as e:
            with suppress(OSError):
                os.ftruncate(fd, size)  # no torn line left behind
            raise SweepError(f"cannot write {path}: {e.strerror or e}") from None
    finally:
        os.close(fd)


def make_folder(path: Path) -> None:
    """Create ``path`` (a folder of a results folder's own) unless it is one; a link
    or a file in its place is refused."""
    refuse_link(path)
    try:
        path.mkdir(exist_ok=True)
    except FileExistsError:
        raise SweepError(f"{path} is a file; a folder was expected there") from None
    except OSError as e:
        raise SweepError(f"cannot create {path}: {e.strerror or e}") from None


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive OS file lock (``flock``) on ``path`` (created if need be,
    never through a link); the kernel releases it when the process dies.
    SweepError at once if another process holds it."""
    refuse_link(path)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o644)
    except OSError as e:
        if e.errno == errno.ELOOP:
            refuse_link(path)
        raise SweepError(f"cannot write to {path.parent}: {e.strerror or e}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SweepError(
                f"{path.parent} is in use by another sweep run (it holds {path}); wait for "
                "it to finish or stop it"
            ) from None
        yield
    finally:
        os.close(fd)
