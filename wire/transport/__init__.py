"""The I/O edge of the toolkit: HTTP/1.1 over sockets, framed by h11 (the server's plain requests by `http1`).

Strategy: `sigv4/` and `wire/` are pure (values in, values out); this package
is where bytes meet the network. `client` sends a `sigv4.Request` and reads
the response (TLS, proxies, timeouts); `server` accepts connections and hands
each received request to an app (limits, keep-alive, refusals). The other edge
modules are `wire/service/sqlite_store.py` (state on SQLite),
`wire/service/trail_log.py` (the CloudTrail file) and `wire/service/app.py`
(clock, entropy and locking around the pure Account handler); `cli.py` parses
arguments and prints. `tests/test_purity.py` lists them (`EDGE_MODULES`) and
fails when any other module of `sigv4/` or `wire/` touches sockets, threads or files.
"""
