// The read loop. On a terminal: node:readline with zkCli's prompt, line editing, history (arrow
// keys) and tab completion. Otherwise (commands piped in): lines are read and run one by one,
// without a prompt, as zkCli does when it has no JLine.
import * as readline from 'node:readline';
import { complete } from './complete';
import { commandUsages, ShellSession } from './session';

export async function readLoop(session: ShellSession, input: NodeJS.ReadableStream & { isTTY?: boolean }, output: NodeJS.WritableStream): Promise<void> {
  const tty = input.isTTY === true;
  const names = commandUsages().map(([n]) => n);
  const rl = readline.createInterface({
    input,
    output: tty ? output : undefined,
    terminal: tty,
    historySize: 500,
    completer: tty
      ? (line: string, cb: (err: Error | null, result: [string[], string]) => void): void => {
          complete(line, names, session.zk).then(
            (r) => cb(null, r),
            () => cb(null, [[], line]),
          );
        }
      : undefined,
  });
  if (!tty) {
    for await (const line of rl) await session.executeLine(line);
    return;
  }
  await new Promise<void>((resolve) => {
    let busy = false;
    const queue: string[] = [];
    const next = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      while (queue.length) await session.executeLine(queue.shift()!);
      busy = false;
      rl.setPrompt(session.prompt);
      rl.prompt();
    };
    rl.on('line', (line) => {
      queue.push(line);
      void next();
    });
    rl.on('close', () => resolve());
    rl.setPrompt(session.prompt);
    rl.prompt();
  });
}
