#!/usr/bin/env python3
"""loyalty: the walkthrough's Python participant (README "Integrate your own
service"), on the tcc_participant library. Action "loyalty.award", payload
"<user>:<points>": Try records the points as pending, Confirm makes them
count, Cancel drops them.

  PYTHONPATH=participant-sdk/python:build/participant-sdk/python/gen \\
    python3 examples/walkthrough/loyalty.py loyalty.db 127.0.0.1:7003
"""
# [snippet loyalty]
import signal
import sys

import tcc_participant as tcc


def on_try(tx: tcc.LocalTx, request) -> tcc.TryOutcome:
    user, points = request.payload.decode().split(":")
    tx.exec("INSERT INTO awards (gid, user, points, state) VALUES (?, ?, ?, 'PENDING')",
            (request.gid, user, int(points)))
    return tcc.reserved()


def on_confirm(tx: tcc.LocalTx, request) -> None:
    tx.exec("UPDATE awards SET state = 'FINAL' WHERE gid = ?", (request.gid,))


def on_cancel(tx: tcc.LocalTx, request) -> None:
    tx.exec("DELETE FROM awards WHERE gid = ?", (request.gid,))


def main(db_file: str, listen: str) -> None:
    db = tcc.open_sqlite_database(db_file)
    db.run_in_transaction(lambda tx: tx.exec(
        "CREATE TABLE IF NOT EXISTS awards (gid TEXT PRIMARY KEY, user TEXT NOT NULL,"
        " points INTEGER NOT NULL, state TEXT NOT NULL)"))
    server = tcc.ParticipantServer(db)
    server.add_action("loyalty.award", on_try, on_confirm, on_cancel)
    server.start(listen)  # keep this address: tccd stores it
    print(f"loyalty listening on {listen}", flush=True)
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, lambda *_: server.shutdown())
    server.wait()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
# [end snippet]
