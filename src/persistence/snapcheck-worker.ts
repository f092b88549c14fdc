// The worker thread of snapcheck.ts: scans the shared snapshot bytes it is given and posts the result.
import { parentPort, workerData } from 'worker_threads';
import { runScanRequest, ScanRequest } from './snapcheck';

parentPort!.postMessage(runScanRequest(workerData as ScanRequest));
