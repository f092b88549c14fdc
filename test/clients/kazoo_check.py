#!/usr/bin/python3
# Drives a ZooKeeper server with kazoo (Debian package python3-kazoo).
# Usage: /usr/bin/python3 kazoo_check.py HOST:PORT
# Prints one line per check, `OK name` or `FAIL name: reason`, then exits 1 if any check failed.
# Used by test/realclients.test.ts; runs equally against Apache ZooKeeper.
import sys
import threading
import time
import traceback

try:
    from kazoo.client import KazooClient
except ImportError as e:
    print("FAIL import: %s (install python3-kazoo: scripts/install-test-deps.sh)" % e)
    sys.exit(3)
from kazoo.exceptions import (BadVersionError, LockTimeout, NoNodeError, NodeExistsError,
                              NotEmptyError, RolledBackError, RuntimeInconsistency)
from kazoo.protocol.states import EventType

hosts = sys.argv[1]
root = "/kazoo-%d" % int(time.time() * 1000000)
fails = 0
clients = []


def client():
    c = KazooClient(hosts=hosts, timeout=10)
    c.start(timeout=15)
    clients.append(c)
    return c


def check(name, f):
    global fails
    try:
        f()
        print("OK " + name)
    except Exception as e:
        fails += 1
        detail = traceback.format_exc().strip().splitlines()
        where = detail[-3].strip() if len(detail) >= 3 else ""
        print("FAIL %s: %r (%s)" % (name, e, where))
    sys.stdout.flush()


def raises(exc, f, *a, **kw):
    try:
        f(*a, **kw)
    except exc:
        return
    raise AssertionError("%s did not raise %s" % (getattr(f, "__name__", f), exc.__name__))


def wait_for(cond, what, secs=5.0):
    end = time.time() + secs
    while not cond():
        if time.time() > end:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


zk = client()


def crud():
    zk.ensure_path(root + "/a/b")
    assert zk.exists(root + "/a/b") is not None
    assert zk.create(root + "/c", b"one") == root + "/c"
    data, stat = zk.get(root + "/c")
    assert data == b"one" and stat.version == 0 and stat.dataLength == 3, (data, stat)
    stat = zk.set(root + "/c", b"two", version=0)
    assert stat.version == 1, stat
    raises(BadVersionError, zk.set, root + "/c", b"x", version=0)
    raises(NodeExistsError, zk.create, root + "/c")
    raises(NoNodeError, zk.get, root + "/missing")
    raises(NoNodeError, zk.create, root + "/missing/child")
    raises(NotEmptyError, zk.delete, root + "/a")
    assert zk.get(root + "/c")[0] == b"two"
    seq = zk.create(root + "/s-", b"", sequence=True)
    assert seq == root + "/s-0000000002", seq
    eph = zk.create(root + "/e", b"", ephemeral=True)
    assert zk.exists(eph).ephemeralOwner == zk.client_id[0]
    children, stat = zk.get_children(root, include_data=True)
    assert sorted(children) == ["a", "c", "e", "s-0000000002"], children
    assert stat.numChildren == 4, stat
    raises(BadVersionError, zk.delete, root + "/c", version=0)
    zk.delete(root + "/c", version=1)
    assert zk.exists(root + "/c") is None
    zk.delete(root + "/a", recursive=True)
    assert zk.exists(root + "/a") is None


def transaction():
    t = zk.transaction()
    t.create(root + "/t1", b"1")
    t.create(root + "/t2", b"2")
    t.set_data(root + "/t1", b"11", version=0)
    t.check(root + "/t2", 0)
    res = t.commit()
    assert res[:2] == [root + "/t1", root + "/t2"], res
    assert res[2].version == 1 and res[3] is True, res
    assert zk.get(root + "/t1")[0] == b"11"
    # a failing transaction: per-op results, nothing applied
    t = zk.transaction()
    t.create(root + "/t3", b"3")
    t.delete(root + "/none")
    t.create(root + "/t4", b"4")
    res = t.commit()
    assert isinstance(res[0], RolledBackError), res
    assert isinstance(res[1], NoNodeError), res
    assert isinstance(res[2], RuntimeInconsistency), res
    assert zk.exists(root + "/t3") is None and zk.exists(root + "/t4") is None


def datawatch():
    path = root + "/w"
    seen = []
    zk.create(path, b"0")

    @zk.DataWatch(path)
    def watch(data, stat, event=None):
        seen.append((data, event.type if event else None))

    wait_for(lambda: len(seen) >= 1, "initial call")
    zk.set(path, b"1")
    wait_for(lambda: len(seen) >= 2, "NodeDataChanged")
    zk.set(path, b"2")
    wait_for(lambda: len(seen) >= 3, "second NodeDataChanged (DataWatch re-arms)")
    zk.delete(path)
    wait_for(lambda: len(seen) >= 4, "NodeDeleted")
    assert seen == [(b"0", None), (b"1", EventType.CHANGED), (b"2", EventType.CHANGED),
                    (None, EventType.DELETED)], seen


def childrenwatch():
    path = root + "/cw"
    zk.create(path)
    seen = []

    @zk.ChildrenWatch(path)
    def watch(children):
        seen.append(sorted(children))

    wait_for(lambda: len(seen) >= 1, "initial call")
    zk.create(path + "/x")
    wait_for(lambda: len(seen) >= 2, "first child")
    zk.create(path + "/y")
    wait_for(lambda: len(seen) >= 3, "second child")
    assert seen == [[], ["x"], ["x", "y"]], seen


def lock():
    other = client()
    l1 = zk.Lock(root + "/lock", "one")
    l2 = other.Lock(root + "/lock", "two")
    assert l1.acquire(timeout=5)
    assert l2.contenders() == ["one"], l2.contenders()
    assert not l2.acquire(blocking=False), "second client got a held lock"
    raises(LockTimeout, l2.acquire, timeout=0.5)
    got = []
    th = threading.Thread(target=lambda: got.append(l2.acquire(timeout=10)))
    th.start()
    time.sleep(0.2)
    l1.release()
    th.join(15)
    assert got == [True], got
    l2.release()
    assert zk.get_children(root + "/lock") == []
    other.stop()
    other.close()


def ephemeral_gone_on_close():
    other = client()
    other.create(root + "/gone", ephemeral=True)
    ev = threading.Event()
    assert zk.exists(root + "/gone", watch=lambda e: ev.set()) is not None
    other.stop()
    other.close()
    assert ev.wait(5), "no NodeDeleted watch event"
    assert zk.exists(root + "/gone") is None


def server_version():
    v = zk.server_version()
    assert v[:2] == (3, 8), v
    assert zk.command(b"ruok") == "imok"


check("crud", crud)
check("transaction", transaction)
check("datawatch", datawatch)
check("childrenwatch", childrenwatch)
check("lock", lock)
check("ephemeral_gone_on_close", ephemeral_gone_on_close)
check("server_version", server_version)
try:
    zk.delete(root, recursive=True)
except Exception:
    pass
for c in clients:
    try:
        c.stop()
        c.close()
    except Exception:
        pass
print("ALL OK" if fails == 0 else "FAILURES %d" % fails)
sys.stdout.flush()
sys.exit(1 if fails else 0)
