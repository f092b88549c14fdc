// The files a membership change leaves behind, as ZooKeeper 3.8 writes them (QuorumPeer.
// setQuorumVerifier with writeToDisk, QuorumPeerConfig.writeDynamicConfig / editStaticConfig):
//   <zoo.cfg>.dynamic.<version hex>  the server.N (group.N, weight.N) lines, sorted, no version line
//   <zoo.cfg>                        rewritten without server/group/weight/peerType/dynamicConfigFile
//                                    lines (and clientPort/clientPortAddress when this server's line
//                                    carries its client address), ending in dynamicConfigFile=<path>
//   <zoo.cfg>.bak                    the static file as it was at start (reconfigEnabled, a quorum)
// so that a restart, of zk-server or of Apache ZooKeeper on the same files, comes back with the
// membership in force. Each file is written atomically (temporary file, fsync, rename).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseProperties } from './load';

function atomicWrite(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

export function dynamicFileName(configFile: string, version: number): string {
  return `${configFile}.dynamic.${version.toString(16)}`;
}

/** QuorumPeerConfig.writeDynamicConfig: the membership's lines, sorted as strings. */
export function dynamicFileContent(membershipText: string): string {
  return membershipText
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('version='))
    .sort()
    .join('\n');
}

/**
 * Write the dynamic file of a membership and point the static config file at it. `eraseClient`:
 * this server's line has its client address, so clientPort/clientPortAddress leave zoo.cfg.
 * Returns the dynamic file's path.
 */
export function writeMembershipFiles(configFile: string, membershipText: string, version: number, eraseClient: boolean): string {
  const dyn = path.resolve(dynamicFileName(configFile, version));
  atomicWrite(dyn, dynamicFileContent(membershipText));
  const text = fs.readFileSync(configFile, 'utf8');
  const drop = new Set<number>();
  for (const p of parseProperties(text)) {
    const k = p.key;
    if (
      k.startsWith('server.') ||
      k.startsWith('group') ||
      k.startsWith('weight') ||
      k.startsWith('dynamicConfigFile') ||
      k.startsWith('peerType') ||
      (eraseClient && k.startsWith('clientPort'))
    ) {
      drop.add(p.line);
    }
  }
  // the other lines stay as the operator wrote them, comments included
  const kept = text.split(/\r\n|\r|\n/).filter((_, i) => !drop.has(i + 1));
  while (kept.length && kept[kept.length - 1].trim() === '') kept.pop();
  kept.push(`dynamicConfigFile=${dyn}`);
  atomicWrite(configFile, kept.join('\n') + '\n');
  try {
    fs.unlinkSync(`${configFile}.dynamic.next`);
  } catch {
    // none
  }
  return dyn;
}

/** The last seen membership (QuorumPeer.setLastSeenQuorumVerifier): <zoo.cfg>.dynamic.next, version kept. */
export function writeNextMembership(configFile: string, membershipText: string): void {
  atomicWrite(`${configFile}.dynamic.next`, membershipText + '\n');
}

export function readNextMembership(configFile: string): string | null {
  try {
    return fs.readFileSync(`${configFile}.dynamic.next`, 'utf8');
  } catch {
    return null;
  }
}

/** QuorumPeerConfig.backupOldConfig: zoo.cfg.bak, on every start of a quorum peer with reconfigEnabled. */
export function backupStaticConfig(configFile: string): void {
  atomicWrite(`${configFile}.bak`, fs.readFileSync(configFile, 'utf8'));
}
