#!/usr/bin/python3
# Holds one kazoo session on one server while kazoo pings it, with one ephemeral znode, for a given
# time; then reports what happened to the session. Used by test/session-keepalive.test.ts.
# Usage: /usr/bin/python3 kazoo_keepalive.py HOST:PORT TIMEOUT_S HOLD_S PATH
# Prints one JSON line: {"session": "0x..", "states": [...], "exists": bool, "owner": "0x..",
#   "sameSession": bool, "error": str|null}; exit 0 if it ran to the end, 1 otherwise.
import json
import sys
import time

from kazoo.client import KazooClient, KazooState

hosts, timeout, hold, path = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
states = []
out = {"session": None, "states": [], "exists": False, "owner": None, "sameSession": False, "error": None}
c = KazooClient(hosts=hosts, timeout=timeout)
c.add_listener(lambda s: states.append(str(s)))
try:
    c.start(timeout=15)
    sid = c.client_id[0]
    out["session"] = hex(sid)
    c.create(path, b"x", ephemeral=True, makepath=True)
    end = time.time() + hold
    while time.time() < end:
        time.sleep(0.2)
    st = c.exists(path)
    out["exists"] = st is not None
    out["owner"] = hex(st.ephemeralOwner) if st is not None else None
    out["sameSession"] = c.client_id is not None and c.client_id[0] == sid
    out["states"] = list(states)  # before stop(), which adds LOST
except Exception as e:  # noqa: BLE001 - reported to the test
    out["error"] = repr(e)
finally:
    try:
        c.stop()
        c.close()
    except Exception:  # noqa: BLE001
        pass
print(json.dumps(out))
sys.exit(0 if out["error"] is None else 1)
