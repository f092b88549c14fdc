// An error the server must not serve through (ZooKeeperCriticalThread.handleException: "Severe
// unrecoverable error"): the txn log cannot be written or synced, so nothing may be acknowledged
// any more. The process entry point (launch.ts) installs a handler that logs and exits with the
// code; library code and in-process tests only record it.
export const ExitCode = {
  /** the txn log could not be written or fdatasync'ed */
  TXNLOG_ERROR: 10,
} as const;

export type FatalHandler = (code: number, message: string, err: unknown) => void;

let handler: FatalHandler = () => {};

export function onFatal(h: FatalHandler): void {
  handler = h;
}

export function fatal(code: number, message: string, err: unknown): void {
  handler(code, message, err);
}
