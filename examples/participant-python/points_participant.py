#!/usr/bin/env python3
"""A complete TCC participant in Python: a points service whose action
"points.freeze" freezes points on Try, deducts them on Confirm and releases
them on Cancel. The library's barrier makes duplicates, retries and a Cancel
before its Try safe; the handlers only write their business rows through tx.
It is examples/participant-minimal/main.cc in Python, on the same tables, so
either one can serve the same database file.

  PYTHONPATH=participant-sdk/python:build/participant-sdk/python/gen \
    /usr/bin/python3 examples/participant-python/points_participant.py \
    --listen=127.0.0.1:50061 --db=points.db

Branch payload: "<user>:<points>", e.g. "alice:30".
"""

import argparse
import os
import signal
import sys

import grpc

import tcc_participant as tcc


def parse_payload(request) -> "tuple[str, int]":
    user, _, amount = request.payload.decode().partition(":")
    if not user or not amount.isdigit() or int(amount) <= 0:
        raise tcc.TccError(grpc.StatusCode.INVALID_ARGUMENT,
                           "payload must be <user>:<positive points>")
    return user, int(amount)


def on_try(tx: tcc.LocalTx, request) -> tcc.TryOutcome:
    user, amount = parse_payload(request)
    changed = tx.exec("UPDATE accounts SET frozen = frozen + ?1"
                      " WHERE user = ?2 AND balance - frozen >= ?1", (amount, user))
    return tcc.reserved() if changed else tcc.refused(f"not enough points for {user}")


def on_confirm(tx: tcc.LocalTx, request) -> None:
    user, amount = parse_payload(request)
    tx.exec("UPDATE accounts SET balance = balance - ?1, frozen = frozen - ?1 WHERE user = ?2",
            (amount, user))


def on_cancel(tx: tcc.LocalTx, request) -> None:
    user, amount = parse_payload(request)
    tx.exec("UPDATE accounts SET frozen = frozen - ?1 WHERE user = ?2", (amount, user))


def main() -> int:
    flags = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    flags.add_argument("--listen", default="127.0.0.1:50061",
                       help="host:port; port 0 picks one. Loopback by default: another "
                            "address is reachable by anyone, in plaintext")
    flags.add_argument("--db", default="points.db", help="SQLite file (created if missing)")
    flags.add_argument("--port_file", default="", help="write the bound port here once serving")
    args = flags.parse_args()

    db = tcc.open_sqlite_database(args.db)
    db.run_in_transaction(lambda tx: (
        tx.exec("CREATE TABLE IF NOT EXISTS accounts (user TEXT PRIMARY KEY,"
                " balance INTEGER NOT NULL, frozen INTEGER NOT NULL)"),
        tx.exec("INSERT INTO accounts VALUES ('alice', 100, 0) ON CONFLICT DO NOTHING")))

    server = tcc.ParticipantServer(db)
    server.add_action("points.freeze", on_try, on_confirm, on_cancel)
    port = server.start(args.listen)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(f"{port}\n")
        os.replace(args.port_file + ".tmp", args.port_file)  # readers never see half a file
    print(f"points participant listening on port {port}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: server.shutdown())
    server.wait()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except tcc.TccError as error:
        print(f"points_participant: {error}", file=sys.stderr)
        sys.exit(1)
