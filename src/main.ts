// Starting and stopping a server process from a parsed config.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type pino from 'pino';
import { ServerConfig } from './config/types';
import { DataTree } from './server/datatree';
import { FourLetterContext } from './server/fourlw';
import { ClientListener } from './server/net';
import { MemoryLog, TxnLogSink, ZooKeeperServer } from './server/zkserver';

export interface RunningServer {
  zk: ZooKeeperServer;
  listener: ClientListener;
  config: ServerConfig;
  port: number;
  stop(): Promise<void>;
}

export interface StartOptions {
  logger: pino.Logger;
  /** a ready tree and log (persistence); default: an empty in-memory tree */
  tree?: DataTree;
  log?: TxnLogSink;
  onStop?: () => Promise<void>;
}

export async function startStandalone(config: ServerConfig, opts: StartOptions): Promise<RunningServer> {
  const logger = opts.logger;
  for (const k of config.ignoredKeys) logger.info({ key: k }, 'config key accepted but not implemented; ignored');
  fs.mkdirSync(path.join(config.dataDir, 'version-2'), { recursive: true });
  const tree = opts.tree ?? new DataTree();
  const zk = new ZooKeeperServer(
    tree,
    {
      serverId: config.myid ?? 1,
      tickTime: config.tickTime,
      minSessionTimeout: config.minSessionTimeout,
      maxSessionTimeout: config.maxSessionTimeout,
      maxBuffer: config.juteMaxBuffer,
      extendedTypesEnabled: config.extendedTypesEnabled,
      skipACL: config.skipACL,
      reconfigEnabled: config.reconfigEnabled,
      superDigest: config.superDigest,
      containerCheckIntervalMs: config.containerCheckIntervalMs,
      containerMaxPerMinute: config.containerMaxPerMinute,
    },
    opts.log ?? new MemoryLog(),
    logger,
  );
  const ctx: FourLetterContext = {
    zk,
    config,
    mode: () => 'standalone',
    traceMask: { value: 0n },
  };
  const listener = new ClientListener(
    () => zk,
    ctx,
    {
      host: config.clientPortAddress,
      port: config.clientPort,
      maxClientCnxns: config.maxClientCnxns,
      maxBuffer: config.juteMaxBuffer,
      backlog: config.clientPortListenBacklog > 0 ? config.clientPortListenBacklog : undefined,
    },
    logger,
  );
  await listener.listen();
  zk.startTimers();
  const port = listener.address()?.port ?? config.clientPort;
  logger.info({ address: config.clientPortAddress, port }, 'serving clients (standalone)');
  return {
    zk,
    listener,
    config,
    port,
    async stop() {
      zk.shutdown();
      await listener.close();
      if (opts.onStop) await opts.onStop();
    },
  };
}
