"""The pure core stays pure: only the declared edge modules touch sockets, TLS, SQLite, threads or files.

Walks every module of `sigv4/` and `wire/` with `ast` (nothing is imported or
run) and fails on an import of an I/O module, or a call of the builtin `open`,
outside `EDGE_MODULES` and `sigv4/integrations/`, and on reaching files, the
environment or the clock by call (`path.read_bytes()`, `os.environ`,
`datetime.now()`) outside them and a short list of declared exceptions; it also fails on any import
cycle among the repository's own modules (imports under `if TYPE_CHECKING:`
count too: a cycle of annotations is still a knot a reader has to untie).
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("sigv4", "wire")

#: The I/O edge: every module allowed to touch the world, and what for.
EDGE_MODULES: dict[str, str] = {
    "wire.transport.client": "HTTP client: sockets, TLS, proxies",
    "wire.transport.server": "HTTP server: listening socket, an event loop over the connections, threads for streaming apps",
    "wire.transport.slots": "the server's free connection slots: a lock shared with the connections' threads, a poll",
    "wire.service.sqlite_store": "the Account endpoint's state in SQLite",
    "wire.service.trail_log": "the CloudTrail file: append, fsync, torn-record repair",
    "wire.service.app": "clock, entropy and the request lock around the pure handler; reads the accounts file",
    "wire.service.demo": "`sigv4 demo`: the endpoint in-process, a scratch directory, calls over loopback",
    "wire.transport.proxy": "the signing proxy: the clock and the client/server modules around sigv4.sign",
    "wire.transport.upstream": "a proxy's kept-alive connections to its upstream, one per thread",
    "wire.transport.guard": "the signature guard: the clock, request ids and the client/server modules around sigv4.verify",
    "wire.transport.files": "the files and stdin a command names, read whole or opened for streaming",
    "wire.transport.signing": "signing as the command line's flags say: credentials from the chain, the clock",
    "wire.transport.resend": "sending through the client, once more signed for the server's clock; body files' sizes",
    "wire.transport.calls": "`sigv4 call`: model and @file parameters, credentials and endpoint_url, signed now",
    "wire.transport.cloudfront_cli": "`sigv4 cloudfront`: the key files it names and the clock (expiry, verify time)",
    "wire.transport.rolesanywhere_cli": "`sigv4 credential-process rolesanywhere`: a profile's settings, CreateSession",
    "wire.transport.resign": "`sigv4 proxy --resign`: the credential chain, the clock, request ids, botocore models",
    "wire.transport.intercept": "`sigv4 proxy --intercept`: the local CA's files, TLS contexts minted per host (a lock)",
}
#: Adapters for other libraries' I/O (requests, httpx, credential files): edge by design.
EDGE_PACKAGES = ("sigv4.integrations",)

FORBIDDEN = frozenset({"socket", "ssl", "sqlite3", "threading", "subprocess", "selectors", "asyncio"})

#: The world reached through a module that is pure otherwise: files by path methods, the environment,
#: the clock and entropy. (`open()` and the modules above are checked by name; these by call.)
WORLD_CALLS = frozenset({"read_text", "read_bytes", "write_text", "write_bytes", "getenv", "urandom", "now",
                         "utcnow", "today", "time", "monotonic", "perf_counter", "sleep"})
#: Pure modules with one declared reach into the world, and why.
WORLD_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("wire.model", "read_bytes"): "load_model reads the model file its caller names (documented in wire/__init__)",
}

#: The modules outside `wire.debugger` that may read it (the guide: the CLI, the proxy and the endpoint), and why.
#: A signer (`sigv4.integrations`, the command line's resend) measures clock skew with `sigv4.clock_skew` instead.
DEBUGGER_READERS: dict[str, str] = {
    "wire.transport.proxy": "the signing proxy diagnoses the refusals it relays",
    "wire.transport.guard": "the signature guard explains the requests it refuses",
    "wire.transport.resign": "the credential boundary explains the placeholder signatures it refuses, as the guard",
    "wire.transport.files": "the CLI's capture files, read by the debugger's capture readers",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of the packages, by dotted name."""
    return {module_name(path): path for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))}


def is_edge(name: str) -> bool:
    return name in EDGE_MODULES or any(name == p or name.startswith(p + ".") for p in EDGE_PACKAGES)


def imported(name: str, path: Path, known: Collection[str]) -> Iterator[tuple[str, int]]:
    """(absolute module name, line) of every import in the module, relative ones resolved; `known`: the repository's modules."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            # `from . import v2` and `from wire import query` import submodules, not names of the package.
            submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known]
            for target in submodules or [base]:
                yield target, node.lineno


def opens(path: Path) -> Iterator[int]:
    """Lines that call the builtin `open` (not a method such as `Path.open` or `gzip.open`)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
            yield node.lineno


def test_edge_modules_exist_and_are_declared() -> None:
    known = modules()
    print("edge modules:", ", ".join(EDGE_MODULES), "+ packages", ", ".join(EDGE_PACKAGES))
    assert not [name for name in EDGE_MODULES if name not in known], "EDGE_MODULES names a module that is gone"


def test_only_edge_modules_touch_the_world() -> None:
    offences = []
    known = modules()
    for name, path in known.items():
        if is_edge(name):
            continue
        for target, line in imported(name, path, known):
            if target.split(".")[0] in FORBIDDEN:
                offences.append(f"{path.relative_to(ROOT)}:{line}: imports {target}")
        offences += [f"{path.relative_to(ROOT)}:{line}: calls open()" for line in opens(path)]
    assert not offences, "I/O outside the edge modules (declare it in EDGE_MODULES or move it):\n" + "\n".join(offences)


def world_calls(path: Path) -> Iterator[tuple[str, int]]:
    """(name, line) of calls such as `path.read_bytes()`, `os.getenv()`, `datetime.now()`, and of `os.environ`."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WORLD_CALLS:
            yield node.func.attr, node.lineno
        elif isinstance(node, ast.Attribute) and node.attr == "environ":
            yield "environ", node.lineno


def test_only_edge_modules_read_files_the_environment_or_the_clock() -> None:
    offences = [f"{path.relative_to(ROOT)}:{line}: {call}"
                for name, path in modules().items() if not is_edge(name)
                for call, line in world_calls(path) if (name, call) not in WORLD_EXCEPTIONS]
    assert not offences, "the world reached outside the edge modules:\n" + "\n".join(offences)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph` (module -> modules it imports), as a path that ends where it starts; None if acyclic."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def import_graph() -> dict[str, set[str]]:
    """Module -> the repository modules it imports. Importing `a.b` also runs the package `a`'s __init__,
    but that edge is not drawn: a package that re-exports its submodules is not a cycle with them."""
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for target, _ in imported(name, path, known):
            if target in known and target != name:
                graph[name].add(target)
    return graph


def test_no_import_cycles() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_cycle_finder_finds_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_only_the_cli_the_proxy_and_the_endpoint_read_the_debugger() -> None:
    known = modules()
    offences = [f"{path.relative_to(ROOT)}:{line}: imports {target}"
                for name, path in known.items()
                if not name.startswith("wire.debugger") and name not in DEBUGGER_READERS
                for target, line in imported(name, path, known) if target.startswith("wire.debugger")]
    assert not offences, "the debugger read outside the CLI, the proxy and the endpoint:\n" + "\n".join(offences)
