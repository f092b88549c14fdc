// `zk-server cli`: a ZooKeeper shell that behaves like zkCli.sh 3.8. Its arguments are zkCli's:
//   -server host:port[,host:port…][/chroot]  -timeout ms  -r  -waitforconnection  [cmd args…]
// With a command it runs that one command and exits with its code (0 done, 1 failed, 127 no such
// command); without, it reads commands from the terminal (or from stdin when that is not one).
import { ShellOutput } from './commands';
import { AsyncPrinter, readLoop } from './interactive';
import { ShellSession } from './session';

export interface ShellArgs {
  server: string;
  timeout: number;
  readOnly: boolean;
  waitForConnection: boolean;
  /** a command to run instead of reading commands */
  command: string[] | null;
}

/**
 * ZooKeeperMain's own option parsing: single-dash options up to the first word that is not one.
 * An option missing its value is reported, and the shell goes on with the defaults, as zkCli does.
 */
export function parseShellArgs(argv: string[]): { args: ShellArgs; error?: string } {
  const a: ShellArgs = { server: 'localhost:2181', timeout: 30000, readOnly: false, waitForConnection: false, command: null };
  for (let i = 0; i < argv.length; i++) {
    const opt = argv[i];
    const value = (): string | null => (i + 1 < argv.length ? argv[++i] : null);
    let v: string | null = '';
    if (opt === '-server') v = a.server = value() ?? '';
    else if (opt === '-timeout') {
      v = value();
      if (v !== null) a.timeout = Number(v);
    } else if (opt === '-client-configuration') v = value();
    else if (opt === '-r') a.readOnly = true;
    else if (opt === '-waitforconnection') a.waitForConnection = true;
    if (v === null) return { args: a, error: `Error: no argument found for option ${opt}` };
    if (!opt.startsWith('-')) {
      a.command = argv.slice(i);
      break;
    }
  }
  return { args: a };
}

export async function runShell(argv: string[]): Promise<number> {
  const { args, error } = parseShellArgs(argv);
  if (error) process.stderr.write(error + '\n');
  // a reader that went away (`zk-server cli … | head`) ends the shell quietly
  process.stdout.on('error', () => process.exit(0));
  const io: ShellOutput = {
    out: (l) => void process.stdout.write(l + '\n'),
    err: (l) => void process.stderr.write(l + '\n'),
    outRaw: (t) => void process.stdout.write(t),
  };
  let quit: (code: number) => void = () => {};
  const quitting = new Promise<number>((res) => (quit = res));
  const tty = process.stdin.isTTY === true;
  const printer: AsyncPrinter = { print: (lines) => lines.forEach((l) => io.out(l)) };
  const session = new ShellSession(
    { server: args.server, timeout: args.timeout, readOnly: args.readOnly, waitForConnection: args.waitForConnection },
    io,
    (code) => {
      quit(code);
      return new Promise<never>(() => {});
    },
    (lines) => printer.print(lines),
  );
  io.out(`Connecting to ${args.server}`);
  try {
    await session.connect(args.server);
  } catch (e) {
    io.err(String(e instanceof Error ? e.message : e));
    return 1;
  }
  if (args.command) {
    const done = session.processCmd(args.command).then(() => session.exitCode);
    const code = await Promise.race([done, quitting]);
    // zkCli exits here without a word about the session; its Closed event is not shown either
    session.printWatches = false;
    await session.zk?.close();
    return code;
  }
  io.out('Welcome to ZooKeeper!');
  io.out(`JLine support is ${tty ? 'enabled' : 'disabled'}`);
  // Ctrl-C ends the shell as a signal ends zkCli's JVM: 128 + SIGINT
  const ended = readLoop(session, process.stdin, process.stdout, printer, () => quit(130)).then(() => session.exitCode);
  const code = await Promise.race([ended, quitting]);
  session.printWatches = false;
  await session.zk?.close();
  return code;
}
