// The shell's state around one ZooKeeper session, as ZooKeeperMain keeps it: the connect string,
// the numbered history, printwatches, the exit code of the last command; and the dispatch of one
// command line (the built-ins connect/history/redo/printwatches/quit, then the server commands).
import { WatchedEvent, ZkClient } from '../client/zkclient';
import { CliError, COMMANDS, ShellOutput, wrapError } from './commands';
import { eventText } from './format';
import { splitLine } from './parse';

export interface SessionOptions {
  server: string;
  /** session timeout, ms (-timeout) */
  timeout: number;
  /** -r: accept a read-only server */
  readOnly: boolean;
  /** -waitforconnection: connect before the first command runs */
  waitForConnection: boolean;
}

/** The commands ZooKeeperMain handles itself, with their usage text. */
const BUILTINS: Record<string, string> = { connect: 'host:port', history: '', redo: 'cmdno', printwatches: 'on|off', quit: '' };

/** Every command name with its usage text, sorted as zkCli lists them. */
export function commandUsages(): [string, string][] {
  const all: [string, string][] = [...Object.entries(BUILTINS), ...[...COMMANDS.values()].map((c): [string, string] => [c.name, c.optionStr])];
  return all.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export class ShellSession {
  zk: ZkClient | null = null;
  host = '';
  private readonly history = new Map<number, string>();
  commandCount = 0;
  printWatches = true;
  exitCode = 0;
  /** the last words parsed: a line of blanks leaves them in place, so zkCli runs the last command again */
  private words: string[] = [];

  constructor(
    private readonly opts: SessionOptions,
    private readonly io: ShellOutput,
    /** quit: ends the process with this code */
    private readonly exit: (code: number) => Promise<never> | never,
    /** events are printed through here (the interactive loop redraws its prompt) */
    private readonly printEvent: (lines: string[]) => void = (lines) => lines.forEach((l) => io.out(l)),
  ) {}

  get prompt(): string {
    return `[zk: ${this.host}(${this.zk?.state ?? 'CLOSED'}) ${this.commandCount}] `;
  }

  /** Open a session to `host`, closing the current one first. */
  async connect(host: string): Promise<void> {
    if (this.zk?.isAlive) await this.zk.close();
    this.host = host;
    let connected: (() => void) | null = null;
    const ready = new Promise<void>((res) => (connected = res));
    this.zk = new ZkClient(host, (e) => this.onEvent(e, connected), { sessionTimeout: this.opts.timeout, readOnly: this.opts.readOnly });
    if (this.opts.waitForConnection) {
      let t: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([ready.then(() => false), new Promise<boolean>((res) => (t = setTimeout(() => res(true), this.opts.timeout)))]);
      clearTimeout(t);
      if (timedOut) {
        await this.zk.close();
        throw new Error('KeeperErrorCode = ConnectionLoss');
      }
    }
  }

  private onEvent(e: WatchedEvent, connected: (() => void) | null): void {
    // ZooKeeperMain.printMessage puts a blank line before each line
    if (this.printWatches) this.printEvent(['', 'WATCHER::', '', eventText(e)]);
    if (e.type === 'None' && e.state === 'SyncConnected') connected?.();
  }

  /** One line typed (or read from stdin): numbered, remembered, run. Empty lines are skipped. */
  async executeLine(line: string): Promise<void> {
    if (line === '') return;
    const words = splitLine(line);
    if (words.length) this.words = words;
    this.history.set(this.commandCount, line);
    await this.processCmd(this.words);
    this.commandCount++;
  }

  /** Run one command; its failure is printed and becomes the exit code. */
  async processCmd(words: string[]): Promise<void> {
    try {
      await this.processZKCmd(words);
      this.exitCode = 0;
    } catch (e) {
      const err = wrapError(e);
      this.exitCode = err.exitCode;
      this.io.err(err.message);
    }
  }

  private usage(): void {
    this.io.err('ZooKeeper -server host:port -client-configuration properties-file cmd args');
    for (const [name, opts] of commandUsages()) this.io.err(`\t${name} ${opts}`);
  }

  private async processZKCmd(words: string[]): Promise<void> {
    const cmd = words[0];
    if (words.length < 1) {
      this.usage();
      throw new CliError('No command entered');
    }
    if (!(cmd in BUILTINS) && !COMMANDS.has(cmd)) {
      this.usage();
      throw new CliError(`Command not found: Command not found ${cmd}`, 127);
    }
    if (cmd === 'quit') {
      await this.zk?.close();
      await this.exit(this.exitCode);
      return;
    }
    if (cmd === 'redo' && words.length >= 2) {
      const i = Number(words[1]);
      if (!Number.isInteger(i)) throw new CliError(`java.lang.NumberFormatException: For input string: "${words[1]}"`);
      if (this.commandCount <= i || i < 0) throw new CliError('Command index out of range');
      const again = this.history.get(i)!;
      const redoWords = splitLine(again);
      if (redoWords[0] === 'redo') throw new CliError('No redoing redos');
      this.words = redoWords;
      this.history.set(this.commandCount, again);
      await this.processCmd(redoWords);
    } else if (cmd === 'history') {
      for (let i = this.commandCount - 10; i <= this.commandCount; i++) {
        if (i < 0) continue;
        this.io.out(`${i} - ${this.history.get(i) ?? 'null'}`);
      }
    } else if (cmd === 'printwatches') {
      if (words.length === 1) this.io.out(`printwatches is ${this.printWatches ? 'on' : 'off'}`);
      else this.printWatches = words[1] === 'on';
    } else if (cmd === 'connect') {
      await this.connect(words.length >= 2 ? words[1] : this.host);
    }
    // everything below needs a live session; zkCli says so even after a built-in
    if (!this.zk || !this.zk.isAlive) {
      this.io.out('Not connected');
      return;
    }
    const c = COMMANDS.get(cmd);
    if (c) await c.run({ zk: this.zk, io: this.io }, [...words]);
  }
}
