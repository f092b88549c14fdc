// How zkCli reads what the user typed: a line split into words (double- or single-quoted words keep
// their spaces), then each command's options parsed the way commons-cli's DefaultParser does it
// (options may come anywhere, "-sw" is "-s -w", an option's value is the next word).

/** Split a command line into words; quotes around a whole word are removed. */
export function splitLine(line: string): string[] {
  const words: string[] = [];
  const re = /\s*([^"']\S*|"[^"]*"|'[^']*')\s*/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    let w = m[1];
    if (/^(['"])(.*)\1$/s.test(w)) w = w.substring(1, w.length - 1);
    words.push(w);
  }
  return words;
}

export interface OptionSpec {
  /** option name without the dash: "s", "v", "file" */
  name: string;
  hasArg: boolean;
  description?: string;
}

export interface ParsedCommand {
  /** the words that are not options; [0] is the command itself */
  args: string[];
  /** option name -> value ('' for a flag) */
  opts: Map<string, string>;
}

/** commons-cli's ParseException family; zkCli prints the exception's toString(): class name and message. */
export class OptionParseError extends Error {
  constructor(
    readonly javaClass: string,
    message: string,
  ) {
    super(message);
  }
  override toString(): string {
    return `org.apache.commons.cli.${this.javaClass}: ${this.message}`;
  }
}

const isNegativeNumber = (t: string): boolean => /^-\d+(\.\d+)?$/.test(t);

/**
 * Parse words against a command's options. `group`, when given, names options of which at most one
 * may appear (an OptionGroup), and `groupRequired` says one of them must.
 */
export function parseOptions(words: string[], specs: OptionSpec[], group?: string[], groupRequired = false): ParsedCommand {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const args: string[] = [];
  const opts = new Map<string, string>();
  let waiting: OptionSpec | null = null;
  let groupSelected: string | null = null;
  const select = (s: OptionSpec): void => {
    if (group?.includes(s.name)) {
      if (groupSelected !== null && groupSelected !== s.name) {
        throw new OptionParseError(
          'AlreadySelectedException',
          `The option '${s.name}' was specified but an option from this group has already been selected: '${groupSelected}'`,
        );
      }
      groupSelected = s.name;
    }
    opts.set(s.name, '');
    if (s.hasArg) waiting = s;
  };
  const missingArg = (s: OptionSpec): never => {
    throw new OptionParseError('MissingArgumentException', `Missing argument for option: ${s.name}`);
  };
  let rest = false;
  for (const t of words) {
    const isOption = !rest && t.startsWith('-') && t.length > 1 && !isNegativeNumber(t);
    if (waiting) {
      const w: OptionSpec = waiting;
      if (isOption && (byName.has(t.substring(1)) || byName.has(t[1]))) missingArg(w);
      waiting = null;
      opts.set(w.name, t);
      continue;
    }
    if (rest || !isOption) {
      if (t === '--' && !rest) {
        rest = true;
        continue;
      }
      args.push(t);
      continue;
    }
    if (t === '--') {
      rest = true;
      continue;
    }
    if (t.startsWith('--')) throw new OptionParseError('UnrecognizedOptionException', `Unrecognized option: ${t}`);
    const name = t.substring(1);
    const whole = byName.get(name);
    if (whole) {
      select(whole);
      continue;
    }
    // concatenated short options: "-sw", or an option with its value attached: "-v3"
    for (let i = 1; i < t.length; i++) {
      const s = byName.get(t[i]);
      if (!s) throw new OptionParseError('UnrecognizedOptionException', `Unrecognized option: ${t}`);
      select(s);
      if (s.hasArg && i + 1 < t.length) {
        waiting = null;
        opts.set(s.name, t.substring(i + 1));
        break;
      }
    }
  }
  if (waiting) missingArg(waiting);
  if (group && groupRequired && groupSelected === null) {
    const list = group.map((g) => `-${g} ${byName.get(g)?.description ?? ''}`.trimEnd()).join(', ');
    throw new OptionParseError('MissingOptionException', `Missing required option: [${list}]`);
  }
  return { args, opts };
}
