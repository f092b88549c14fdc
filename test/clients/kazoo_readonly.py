# kazoo's read-only mode against a peer that lost its quorum (test/readonly.test.ts):
#   phase 1 (only the read-only peer is up): connect with read_only=True, read, try a create and a
#   sync (both must be refused with NotReadOnlyCallError); print one JSON line, then wait for "go"
#   on stdin while the test brings the quorum back;
#   phase 2: wait until kazoo has moved to a read-write server by itself, create a znode; print JSON.
import json, sys, time
from kazoo.client import KazooClient, KazooState
from kazoo.exceptions import NotReadOnlyCallError

hosts = sys.argv[1]
zk = KazooClient(hosts=hosts, read_only=True, timeout=10)
states = []
zk.add_listener(lambda s: states.append(str(s)))
out = {}
try:
    zk.start(timeout=20)
    out['state'] = zk.client_state
    out['before'] = zk.get('/before')[0].decode()
    try:
        zk.create('/ro-create', b'x')
        out['create'] = 'ok'
    except NotReadOnlyCallError:
        out['create'] = 'NotReadOnlyCallError'
    try:
        zk.sync('/')
        out['sync'] = 'ok'
    except NotReadOnlyCallError:
        out['sync'] = 'NotReadOnlyCallError'
except Exception as e:
    out['error'] = repr(e)
print(json.dumps(out), flush=True)
sys.stdin.readline()
out2 = {}
try:
    end = time.time() + 60
    while time.time() < end and zk.client_state != 'CONNECTED':
        time.sleep(0.2)
    out2['state'] = zk.client_state
    zk.create('/after-ro', b'rw')
    out2['create'] = 'ok'
except Exception as e:
    out2['error'] = repr(e)
out2['states'] = states
print(json.dumps(out2), flush=True)
zk.stop()
