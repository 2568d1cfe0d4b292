"""``quidpro serve``: the workbench page and JSON API on a local port."""

from __future__ import annotations

import socket
from typing import Annotated

import typer

from quidpro.cli.common import command, console, fail
from quidpro.errors import ConfigError


def serve_cmd(
    models: Annotated[
        list[str] | None,
        typer.Argument(
            help="Model files to offer besides the built-in models (requests name them "
            "by file name; nothing else on disk is reachable).",
            metavar="[MODEL...]",
        ),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8765,
) -> None:
    """Serve the analyst's workbench in the browser, and its JSON API.

    One page per model (Explore with sliders and scenarios, Uncertainty with fan charts,
    Why with the causal diagram and its claims, Evidence), and the JSON API (GET
    /api/models, POST /api/run, POST /api/ensemble).

    Examples:
      quidpro serve                        # built-in models at http://127.0.0.1:8765/

      quidpro serve my_model.yaml --port 9000

    Listens on 127.0.0.1 unless --host says otherwise. Stop it with Ctrl-C.
    """
    if not 0 < port < 65536:
        raise ConfigError(f"--port must be between 1 and 65535, got {port}")
    try:
        import uvicorn

        from quidpro.web.app import create_app
        from quidpro.web.workbench import Workbench
    except ImportError as exc:  # pragma: no cover - the web extra is missing
        raise ConfigError(
            f"quidpro serve needs the web extra: pip install 'quidpro[web]' ({exc})"
        ) from None
    bench = Workbench(models or [])
    bench.warm_in_background()  # slider ranking and numba kernel; NumPy serves meanwhile
    for name in bench.names():
        bench.model(name)  # read and check every model now: errors before listening
    sock = _listen(host, port)  # an address in use or unknown is an error before any output
    if host not in ("127.0.0.1", "localhost", "::1"):
        console.print(f"warning: listening on {host}: other machines can reach this server")
    console.print(f"quidpro workbench on http://{host}:{port}/  (Ctrl-C stops it)")
    config = uvicorn.Config(create_app(bench), host=host, port=port, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` as uvicorn binds one; an unknown host is a usage error."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:  # a name that is no address: a usage error
        raise ConfigError(f"--host {host!r} is not an address: {exc.strerror}") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:  # in use, not this machine's, a privileged port
        sock.close()
        fail(f"quidpro: error: cannot listen on {host}:{port}: {exc.strerror or exc}", 1)
    sock.set_inheritable(True)
    return sock


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the ``quidpro`` command."""
    app.command("serve")(command(serve_cmd))
