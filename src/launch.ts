// Process-level start-up: choose the mode, restore data, start serving, stop cleanly on signals.
import type { Logger } from './util/log';
import { ServerConfig } from './config/types';
import { RunningServer, startQuorumPeer, startStandalone } from './main';

export function isQuorumConfig(config: ServerConfig): boolean {
  return config.servers.size > 1 || (config.servers.size === 1 && !config.standaloneEnabled);
}

export async function startServerProcess(config: ServerConfig, logger: Logger): Promise<RunningServer> {
  const running = isQuorumConfig(config) ? await startQuorumPeer(config, logger) : await startStandalone(config, { logger });
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
