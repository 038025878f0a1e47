"""The listening socket of a server: its port checked, and bound up front, so that a taken port
fails at once and ``port=0`` gives the chosen port before uvicorn starts."""

from __future__ import annotations

import socket

from mockfiles.exceptions import StartupError

MAX_PORT = 65_535


def check_port(port: int) -> int:
    """A TCP port is 16 bits: getaddrinfo would take 99999 modulo 65536 (34463) and serve there,
    and say "Servname not supported" for -1, so anything outside 0–65535 is refused first."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= MAX_PORT:
        raise ValueError(f"port must be 0–{MAX_PORT} (0 picks a free one), got {port!r}")
    return port


def bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket up front so that a taken port fails at once, and
    ``port=0`` gives us the chosen port before uvicorn starts."""
    try:
        check_port(port)
    except ValueError as exc:
        raise StartupError(str(exc)) from None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise StartupError(f"cannot resolve host {host!r}: {exc}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.setblocking(False)
    return sock
