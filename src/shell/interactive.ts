// The read loop. On a terminal: node:readline with zkCli's prompt, line editing, history (arrow
// keys) and tab completion. Otherwise (commands piped in): lines are read and run one by one,
// without a prompt, as zkCli does when it has no JLine.
import * as readline from 'node:readline';
import { complete } from './complete';
import { commandUsages, ShellSession } from './session';

/** Where output that arrives between commands (watch events) goes, so the prompt can be redrawn under it. */
export interface AsyncPrinter {
  print(lines: string[]): void;
}

/**
 * Read and run commands until the input ends. `interrupted` is called on Ctrl-C at the prompt
 * (zkCli's JVM dies of it). On a terminal, `printer.print` is replaced by one that redraws the prompt.
 */
export async function readLoop(
  session: ShellSession,
  input: NodeJS.ReadableStream & { isTTY?: boolean },
  output: NodeJS.WritableStream,
  printer: AsyncPrinter,
  interrupted: () => void,
): Promise<void> {
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
    printer.print = (lines) => {
      if (busy) {
        output.write(lines.join('\n') + '\n');
        return;
      }
      // the event goes above the prompt, and the prompt with what was typed so far comes back under it
      readline.clearLine(output, 0);
      readline.cursorTo(output, 0);
      output.write(lines.join('\n') + '\n');
      rl.setPrompt(session.prompt);
      rl.prompt(true);
    };
    rl.on('SIGINT', interrupted);
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
