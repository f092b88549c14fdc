// The one logger shape every module takes: pino's (structured fields first, then the message, or
// just a message), the subset zk-server uses. A pino.Logger is one; tests may pass anything with
// these four methods.
export interface Logger {
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  /** write out what is buffered (pino's asynchronous destination), before the process exits */
  flush?(): void;
  /** a logger whose every line carries `bindings` too (pino's child loggers) */
  child?(bindings: Record<string, unknown>): Logger;
}

/**
 * The logger of one part of the server: its lines name the component (ZooKeeper's class names,
 * Leader, FastLeaderElection, NIOServerCnxnFactory…, so an operator's grep habits carry over).
 * A logger without children (a test's) is returned as it is.
 */
export function componentLogger(logger: Logger, component: string): Logger {
  // always a child of the root: pino does not merge bindings, and a child of a child that set
  // `component` would write the key twice in a JSON line
  const root = roots.get(logger) ?? logger;
  if (!root.child) return logger;
  const child = root.child({ component });
  roots.set(child, root);
  return child;
}
const roots = new WeakMap<Logger, Logger>();

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A Logger that hands each message with its level to `f` (tests collect warnings this way). */
export function loggerOf(f: (level: 'debug' | 'info' | 'warn' | 'error', msg: string) => void): Logger {
  const text = (obj: unknown, msg?: string): string => msg ?? (typeof obj === 'string' ? obj : JSON.stringify(obj));
  return {
    debug: (o, m) => f('debug', text(o, m)),
    info: (o, m) => f('info', text(o, m)),
    warn: (o, m) => f('warn', text(o, m)),
    error: (o, m) => f('error', text(o, m)),
  };
}
