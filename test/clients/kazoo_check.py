# Drives zk-server with kazoo (python3-kazoo); prints OK/FAIL per check.
import sys, threading, time
from kazoo.client import KazooClient
from kazoo.exceptions import NodeExistsError, BadVersionError

hosts = sys.argv[1]
zk = KazooClient(hosts=hosts)
zk.start(timeout=15)
root = "/kazoo-%d" % int(time.time() * 1000)
fails = 0

def check(name, f):
    global fails
    try:
        f()
        print("OK " + name)
    except Exception as e:
        fails += 1
        print("FAIL %s: %r" % (name, e))

def crud():
    zk.ensure_path(root + "/a/b")
    zk.set(root + "/a", b"v")
    data, stat = zk.get(root + "/a")
    assert data == b"v" and stat.version == 1
    try:
        zk.create(root + "/a")
        raise AssertionError("no NodeExistsError")
    except NodeExistsError:
        pass
    try:
        zk.set(root + "/a", b"x", version=0)
        raise AssertionError("no BadVersionError")
    except BadVersionError:
        pass
    assert zk.get_children(root + "/a") == ["b"]

def transaction():
    t = zk.transaction()
    t.create(root + "/t1", b"1")
    t.create(root + "/t2", b"2")
    assert t.commit() == [root + "/t1", root + "/t2"]

def datawatch():
    seen = []
    ev = threading.Event()
    zk.create(root + "/w", b"0")
    @zk.DataWatch(root + "/w")
    def watch(data, stat):
        seen.append(data)
        if data == b"1":
            ev.set()
    zk.set(root + "/w", b"1")
    assert ev.wait(5), seen

def lock():
    l = zk.Lock(root + "/lock", "me")
    assert l.acquire(timeout=5)
    l.release()

def version():
    v = zk.server_version()
    assert v[:2] == (3, 8), v

check("crud", crud)
check("transaction", transaction)
check("datawatch", datawatch)
check("lock", lock)
check("server_version", version)
zk.stop()
print("ALL OK" if fails == 0 else "FAILURES %d" % fails)
sys.exit(1 if fails else 0)
