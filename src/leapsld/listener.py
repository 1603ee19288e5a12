"""The one listening socket of a server, bound by the supervisor and inherited by every worker.

Bound once, without ``SO_REUSEPORT`` unless asked: a second server on the same port is an error
naming who holds it, never two servers answering side by side. Because the supervisor keeps the
socket open, connections wait in its queue while workers come and go, instead of being refused.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

from .errors import CannotListen

#: Connections the kernel queues for the workers (Granian's default).
BACKLOG = 1024


def bind(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A socket bound to ``host``:``port``, inheritable by forked workers, not yet listening.

    Raises:
        CannotListen: the port is in use (naming the leapsld or other program holding it), the
            address is not this machine's, or binding is not allowed.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise CannotListen(f"cannot listen on {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        # Lets a restarted server bind while old connections linger in TIME_WAIT; on Linux it
        # never lets two listening sockets share a port (SO_REUSEPORT does).
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Accepted connections inherit it: an answer written as headers, then body, must not
        # wait for the client's delayed ACK (Nagle), which cost 20-40 ms a request.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise CannotListen(_why(exc, host, port)) from None
    sock.set_inheritable(True)
    return sock


def _why(exc: OSError, host: str, port: int) -> str:
    where = f"port {port} on {host}"
    if exc.errno == errno.EADDRINUSE:
        return f"{where} is in use ({holder(port)}); choose another with --port or LEAPSLD_PORT"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return f"{where} may not be used by this user; choose another with --port or LEAPSLD_PORT"
    return f"cannot listen on {where}: {exc.strerror}"


def holder(port: int) -> str:
    """Who listens on ``port``: ``by another leapsld, pid N`` or ``by another program`` (also
    when the holder cannot be seen, e.g. it belongs to another user)."""
    inodes = _listening_inodes(port)
    pid = _owner(inodes) if inodes else None
    if pid is None:
        return "by another program"
    if _is_leapsld(pid):
        return f"by another leapsld, pid {_supervisor(pid)}"
    return "by another program"


def _is_leapsld(pid: int) -> bool:
    """Whether ``pid`` runs the ``leapsld`` command (``leapsld …``, ``python …/leapsld …``,
    ``python -m leapsld …``)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    names = [Path(part.decode(errors="replace")).name for part in command[:3]]
    return "leapsld" in names[:2] or names[1:3] == ["-m", "leapsld"]


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if (
                len(fields) > 9
                and fields[3] == "0A"
                and int(fields[1].rsplit(":", 1)[1], 16) == port
            ):
                inodes.add(fields[9])
    return inodes


def _owner(inodes: set[str]) -> int | None:
    """The lowest pid holding one of these sockets (the supervisor before its workers)."""
    targets = {f"socket:[{inode}]" for inode in inodes}
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fds = os.listdir(f"/proc/{entry}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{entry}/fd/{fd}") in targets:
                    found.append(int(entry))
                    break
            except OSError:
                continue
    return min(found) if found else None


def _supervisor(pid: int) -> int:
    """The topmost leapsld process above ``pid`` (a worker's supervisor)."""
    top = pid
    while True:
        try:
            stat = Path(f"/proc/{top}/stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return top
        if parent <= 1 or not _is_leapsld(parent):
            return top
        top = parent
