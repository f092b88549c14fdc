// Process-level start-up: choose the mode, restore data, start serving, stop cleanly on signals.
import type { Logger } from './util/log';
import { ServerConfig } from './config/types';
import { injectedFault } from './persistence/fileio';
import { onFatal } from './util/fatal';
import { RunningServer, startQuorumPeer, startStandalone } from './main';
import { startIdleCollector } from './util/gc';

export function isQuorumConfig(config: ServerConfig): boolean {
  return config.servers.size > 1 || (config.servers.size === 1 && !config.standaloneEnabled);
}

export async function startServerProcess(config: ServerConfig, logger: Logger): Promise<RunningServer> {
  // a Severe unrecoverable error (the txn log cannot be written): exit, as ZooKeeper does, so a
  // supervisor restarts the server once the disk is back; what was acknowledged is durable
  onFatal((code, message, err) => {
    logger.error({ err: String(err), exitCode: code }, `exiting: ${message}`);
    logger.flush?.();
    setTimeout(() => process.exit(code), 50);
  });
  if (injectedFault) logger.warn({ fault: injectedFault }, 'ZK_FAULT_INJECT is set: disk faults will be injected (tests only)');
  const running = isQuorumConfig(config) ? await startQuorumPeer(config, logger) : await startStandalone(config, { logger });
  // one per process (not per server: tests run several in one): an idle server gives memory back
  startIdleCollector(2000, logger);
  let stopping = false;
  const stop = (sig: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal: sig }, 'shutting down');
    running.stop().then(
      () => {
        logger.flush?.();
        process.exit(0);
      },
      (e) => {
        logger.error({ err: String(e) }, 'error while shutting down');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return running;
}
