"""The listening sockets of a server: bound by the supervisor, one for each generation, and
inherited by that generation's workers.

The first is bound without ``SO_REUSEPORT``: a second server on the same port is an error
naming who holds it, never two servers answering side by side. Once bound it is given
``SO_REUSEPORT``, so that the next generation listens on a socket of its own beside the one in
service (``sibling``), and a classic BPF program on the group (``steer``) sends every new
connection to the socket of the generation in service. After a swap the old socket receives
nothing more: its queue empties into the old workers, which answer what they hold, and none
of the connections they accepted is cut by their stopping. Because the supervisor keeps the
sockets open, connections wait in a queue while workers come and go, instead of being refused.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import socket
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import CannotListen

#: Connections the kernel queues for the workers (Granian's default).
BACKLOG = 1024


#: ``SO_ATTACH_REUSEPORT_CBPF`` (Linux 4.5): a classic BPF program choosing, by its index in
#: the group, the socket a new connection goes to (an index out of range: the kernel's hash).
_SO_ATTACH_REUSEPORT_CBPF = 51
_BPF_RET_K = 0x06


def bind(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A socket bound to ``host``:``port``, inheritable by forked workers, not yet listening.

    Bound without ``SO_REUSEPORT`` unless ``reuse_port`` (sharing the port with another server
    is asked for), so that another socket listening on the port makes it fail; given
    ``SO_REUSEPORT`` once bound, so that the next generation's socket (``sibling``) can listen
    beside it. A server binding without it (another leapsld, unless asked) still finds the
    port in use.

    Raises:
        CannotListen: the port is in use (naming the leapsld or other program holding it), the
            address is not this machine's, or binding is not allowed.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise CannotListen(f"cannot listen on {host}: {exc.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = _bound(family, kind, proto, address, reuse_port=reuse_port)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return sock


def sibling(sock: socket.socket) -> socket.socket:
    """Another socket on ``sock``'s address (``SO_REUSEPORT``, like ``sock``), not listening."""
    return _bound(sock.family, sock.type, sock.proto, sock.getsockname(), reuse_port=True)


def _bound(family: int, kind: int, proto: int, address: Any, *, reuse_port: bool) -> socket.socket:
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
        raise CannotListen(_why(exc, str(address[0]), int(address[1]))) from None
    sock.set_inheritable(True)
    return sock


def steer(sock: socket.socket, index: int) -> None:
    """Send every new connection to the socket at ``index`` in the ``SO_REUSEPORT`` group of
    ``sock`` (the order in which its sockets started listening; a socket leaving moves the last
    one into its place).

    Raises:
        OSError: the kernel refused the program (not Linux, or older than 4.5).
    """
    program = ctypes.create_string_buffer(struct.pack("=HBBI", _BPF_RET_K, 0, 0, index))
    fprog = struct.pack("=HxxxxxxQ", 1, ctypes.addressof(program))
    sock.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_REUSEPORT_CBPF, fprog)


def queued(sock: socket.socket) -> int:
    """Connections in a listening socket's accept queue (``tcpi_unacked`` of its ``TCP_INFO``)."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return int(struct.unpack_from("=I", info, 24)[0])


def connections(pids: list[int], port: int) -> int:
    """Established connections to ``port`` held by the processes ``pids``."""
    inodes = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("socket:["):
                        inodes.add(target[8:-1])
    if not inodes:
        return 0
    return sum(1 for inode in _sockets(port, "01") if inode in inodes)  # 01: established


_SYS_PIDFD_GETFD = 438  # Linux 5.6, on every architecture
_TCP_ESTABLISHED = 1


def close_silent(pids: list[int], port: int, after: float) -> int:
    """Close the connections to ``port`` held by the processes ``pids`` (children of this
    one) that have not sent a single byte in the ``after`` seconds since they were accepted;
    how many. hyper's header timeout starts at a request's first byte, so without this a
    client that connects and sends nothing holds its connection for ever.

    A connection that sent anything (a request on its way, one kept alive between requests)
    is never touched. Where the kernel will not lend another process's descriptors
    (``pidfd_getfd``: Linux 5.6, ptrace rights), nothing is closed.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    closed = 0
    for pid in pids:
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            continue
        try:
            for entry in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if not os.readlink(f"/proc/{pid}/fd/{entry}").startswith("socket:"):
                        continue
                    fd = libc.syscall(_SYS_PIDFD_GETFD, pidfd, int(entry), 0)
                    if fd < 0:
                        if ctypes.get_errno() in (errno.EPERM, errno.ENOSYS):
                            return closed
                        continue
                    closed += _close_if_silent(fd, port, after)
        except OSError:
            pass
        finally:
            os.close(pidfd)
    return closed


def _close_if_silent(fd: int, port: int, after: float) -> int:
    sock = socket.socket(fileno=fd)
    try:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
            return 0
        if sock.getsockname()[1] != port:
            return 0
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 136)
        if len(info) < 136 or info[0] != _TCP_ESTABLISHED:
            return 0
        last_received_ms = struct.unpack_from("=I", info, 52)[0]
        received = struct.unpack_from("=Q", info, 128)[0]
        if received == 0 and last_received_ms >= after * 1000:
            sock.shutdown(socket.SHUT_RDWR)  # the worker's hyper sees the end and lets go
            return 1
        return 0
    except OSError:
        return 0
    finally:
        sock.close()  # this process's copy


def close(sock: socket.socket) -> None:
    """Stop listening now, whoever else holds the socket (a worker's zygote, a query
    process): it leaves its ``SO_REUSEPORT`` group at once, so the group's order is known."""
    with contextlib.suppress(OSError):  # it never listened
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


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
    return set(_sockets(port, "0A"))  # 0A: listening


def _sockets(port: int, state: str) -> Iterator[str]:
    """The inodes of the TCP sockets on local ``port`` in ``state`` (the kernel's hex code, as
    ``/proc/net/tcp`` writes it), IPv4 and IPv6."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if (
                len(fields) > 9
                and fields[3] == state
                and int(fields[1].rsplit(":", 1)[1], 16) == port
            ):
                yield fields[9]


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
