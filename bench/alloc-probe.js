// Loaded into a zk-server process by bench/alloc.js (node --require): on the parent's 'start'
// message it opens V8's sampling heap profiler, counting objects that the young and old
// collections already freed (so the profile is what was allocated, not what stayed), and watches
// garbage collections; on 'stop' it sends back the bytes sampled, the scavenges and their time,
// the process's CPU time, and the profile's top allocation sites. Nothing here runs unless the
// parent sends 'start'.
'use strict';
const inspector = require('node:inspector');
const { PerformanceObserver, constants } = require('node:perf_hooks');

if (process.send) {
  const session = new inspector.Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) => session.post(method, params ?? {}, (e, r) => (e ? reject(e) : resolve(r))));
  let gc = null;
  let cpu0 = null;
  const observer = new PerformanceObserver((list) => {
    if (!gc) return;
    for (const e of list.getEntries()) {
      if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) {
        gc.scavenges++;
        gc.scavengeMs += e.duration;
      } else gc.other++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });

  /** allocation sites by function (self), largest first */
  function topSites(profile, n) {
    const bySite = new Map();
    const walk = (node) => {
      const f = node.callFrame;
      const self = node.selfSize;
      if (self > 0) {
        const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
        bySite.set(key, (bySite.get(key) ?? 0) + self);
      }
      for (const c of node.children) walk(c);
    };
    walk(profile.head);
    return [...bySite].sort((a, b) => b[1] - a[1]).slice(0, n);
  }

  process.on('message', async (m) => {
    try {
      if (m.cmd === 'start') {
        await post('HeapProfiler.enable');
        await post('HeapProfiler.startSampling', {
          samplingInterval: m.interval ?? 1024,
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true,
        });
        gc = { scavenges: 0, scavengeMs: 0, other: 0 };
        cpu0 = process.cpuUsage();
        process.send({ started: true });
      } else if (m.cmd === 'stop') {
        const cpu = process.cpuUsage(cpu0);
        const { profile } = await post('HeapProfiler.stopSampling');
        let bytes = 0;
        for (const s of profile.samples) bytes += s.size;
        const g = gc;
        gc = null;
        process.send({ bytes, cpuUs: cpu.user + cpu.system, ...g, top: topSites(profile, m.top ?? 12) });
      }
    } catch (e) {
      process.send({ error: String(e) });
    }
  });
  // the IPC channel must not keep the server alive once it is told to stop
  process.channel?.unref();
}
