// acceptedEpoch / currentEpoch files in dataDir/version-2 (QuorumPeer.writeLongToFile): decimal text,
// no newline, written atomically through <name>.tmp + fsync + rename.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const ACCEPTED_EPOCH = 'acceptedEpoch';
export const CURRENT_EPOCH = 'currentEpoch';

import { epochOf } from '../data/zxid';

export { epochOf };

export function readEpochFile(snapDir: string, name: string): number | null {
  const f = path.join(snapDir, name);
  let text: string;
  try {
    text = fs.readFileSync(f, 'utf8');
  } catch {
    return null;
  }
  const v = Number(text.trim());
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(v)) throw new Error(`Found ${text} in ${f}`);
  return v;
}

export function writeEpochFile(snapDir: string, name: string, value: number): void {
  const f = path.join(snapDir, name);
  const tmp = `${f}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, String(value));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, f);
  const dfd = fs.openSync(snapDir, 'r');
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
}

export interface Epochs {
  accepted: number;
  current: number;
}

/** Load both epochs, creating missing files from the epoch of the last zxid (QuorumPeer.loadDataBase). */
export function loadEpochs(snapDir: string, lastZxid: number, log: (msg: string) => void = () => {}): Epochs {
  const fromZxid = epochOf(Math.max(0, lastZxid));
  let current = readEpochFile(snapDir, CURRENT_EPOCH);
  if (current === null) {
    const tmp = readEpochFile(snapDir, `${CURRENT_EPOCH}.tmp`);
    current = tmp ?? fromZxid;
    // ZooKeeper's message speaks of an upgrade; on a brand-new dataDir (no txn yet) say what is true
    log(
      lastZxid <= 0 && tmp === null
        ? `${CURRENT_EPOCH} not found: a new dataDir, starting at epoch 0`
        : `${CURRENT_EPOCH} not found! Creating with a reasonable default of ${current}. This should only happen when you are upgrading your installation`,
    );
    writeEpochFile(snapDir, CURRENT_EPOCH, current);
  }
  let accepted = readEpochFile(snapDir, ACCEPTED_EPOCH);
  if (fromZxid > current) {
    // a crash while syncing can leave committed txns the leader sent in the log before
    // currentEpoch was written; their epoch is at most acceptedEpoch and that history is ours
    if (accepted !== null && fromZxid <= accepted) {
      log(`${CURRENT_EPOCH} ${current} is older than the last zxid ${lastZxid.toString(16)}; adopting epoch ${fromZxid}`);
      current = fromZxid;
      writeEpochFile(snapDir, CURRENT_EPOCH, current);
    } else {
      throw new Error(`The current epoch, ${current.toString(16)}, is older than the last zxid, ${Math.max(0, lastZxid).toString(16)}`);
    }
  }
  if (accepted === null) {
    accepted = fromZxid;
    log(
      lastZxid <= 0
        ? `${ACCEPTED_EPOCH} not found: a new dataDir, starting at epoch 0`
        : `${ACCEPTED_EPOCH} not found! Creating with a reasonable default of ${accepted}. This should only happen when you are upgrading your installation`,
    );
    writeEpochFile(snapDir, ACCEPTED_EPOCH, accepted);
  }
  if (accepted < current) {
    throw new Error(`The accepted epoch, ${accepted.toString(16)} is less than the current epoch, ${current.toString(16)}`);
  }
  return { accepted, current };
}
