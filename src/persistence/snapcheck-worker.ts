// The worker thread of snapcheck.ts: scans the shared snapshot bytes it is given and posts the
// result; or, for a SNAP stream, scans the pieces of body it is sent and posts the result on 'end'.
import { parentPort, workerData } from 'worker_threads';
import { setDigestEnabled } from '../data/digest';
import { BodyScanner, runScanRequest, WorkerRequest } from './snapcheck';

const req = workerData as WorkerRequest;
if (req.stream) {
  setDigestEnabled(req.digestEnabled);
  const scanner = new BodyScanner(req.adlerSeed);
  parentPort!.on('message', (m: Uint8Array | 'end') => {
    if (m === 'end') parentPort!.postMessage(scanner.result());
    else scanner.push(m);
  });
} else parentPort!.postMessage(runScanRequest(req));
