// The worker thread of autopurge (persistence/purgethread.ts): runs PurgeTxnLog.purge once on the
// directories it is given and posts the paths it deleted, or the error.
import { parentPort, workerData } from 'worker_threads';
import { purge } from './filetxnsnaplog';
import type { PurgeRequest, PurgeReply } from './purgethread';

const req = workerData as PurgeRequest;
let reply: PurgeReply;
try {
  reply = { removed: purge(req.dataDir, req.dataLogDir, req.retain) };
} catch (e) {
  reply = { error: String((e as Error).message ?? e) };
}
parentPort!.postMessage(reply);
