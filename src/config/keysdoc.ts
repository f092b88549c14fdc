// docs/configuration.md's tables, rendered from the key table (keys.ts): the keys zk-server
// implements, the keys it accepts and ignores (and why, when the feature is unsupported), the
// structural keys, and the `conf` / admin `configuration` outputs. `npm run docs:config` writes them
// between the markers; test/config-docs.test.ts fails when the file differs.
import { ADMIN_CONF_FIELDS, CONF_LINES, FAMILIES, KEYS, KeySpec } from './keys';

export const BEGIN = '<!-- keys: generated from src/config/keys.ts by `npm run docs:config`; do not edit by hand -->';
export const END = '<!-- keys: end -->';

const WHERE: Record<KeySpec['origin'], string> = { qpc: 'zoo.cfg', sys: 'zoo.cfg or -Dzookeeper.KEY', jvm: '-DKEY or zoo.cfg' };
const TYPE: Record<KeySpec['kind'], string> = {
  int: 'integer',
  long: 'long',
  port: 'port',
  port0: 'port',
  bool: 'true/false',
  yesno: 'yes/no',
  double: 'number',
  enum: 'one of',
  path: 'path',
  host: 'host',
  list: 'comma list',
  string: 'text',
};

function typeOf(k: KeySpec): string {
  if (k.kind === 'enum') return `${(k.values ?? []).map((v) => (v === '' ? '""' : v)).join(' / ')}`;
  return `${TYPE[k.kind]}${k.min !== undefined ? ` ≥ ${k.min}` : ''}`;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

export function renderKeyTables(): string {
  const entries = Object.entries(KEYS);
  const impl = entries.filter(([, k]) => k.impl);
  const ignored = entries.filter(([, k]) => !k.impl);
  const where = (k: KeySpec): string => (k.zkOnly ? 'zoo.cfg (zk-server only)' : WHERE[k.origin]);
  const status = (k: { reader?: string; unsupported?: string }): string =>
    cell(k.reader ?? (k.unsupported ? `unsupported: ${k.unsupported}` : 'accepted, ignored'));
  const row = ([key, k]: [string, KeySpec]): string =>
    `| \`${key}\` | ${cell(typeOf(k))} | ${cell(k.default)} | ${cell(k.meaning)} | ${status(k)} | ${where(k)} |`;
  const conf = (quorum: boolean): string[] =>
    CONF_LINES.filter((l) => l.quorum === quorum).map((l) => `| \`${l.name}\` | \`${l.key}\` | ${cell(l.shows)} |`);
  return [
    BEGIN,
    '',
    `### Keys zk-server implements (${impl.length})`,
    '',
    '| key | type | default | meaning | read by | given in |',
    '|---|---|---|---|---|---|',
    ...impl.map(row),
    '',
    `### Keys accepted and validated, but not implemented (${ignored.length})`,
    '',
    'Each is checked for its type, then listed in `ignoredKeys` and logged once at start-up as',
    '"config key accepted but not implemented; ignored". The default is ZooKeeper 3.8\'s.',
    '"unsupported" names the ZooKeeper feature zk-server does not have; the others only tune',
    'JVM or implementation details that have no counterpart here.',
    '',
    '| key | type | default | meaning | status | given in |',
    '|---|---|---|---|---|---|',
    ...ignored.map(row),
    '',
    `### Structural keys (${FAMILIES.length})`,
    '',
    'Parsed by their own rules (below); `group.*` and `weight.*` are accepted and listed in `ignoredKeys`.',
    '',
    '| key | form | default | meaning | read by | given in |',
    '|---|---|---|---|---|---|',
    ...FAMILIES.map((f) => `| \`${f.key}\` | ${cell(f.form)} | ${cell(f.default)} | ${cell(f.meaning)} | ${status(f)} | ${f.prefix ? 'zoo.cfg' : '`<dataDir>/myid`'} |`),
    '',
    '### The `conf` four-letter word and the admin `configuration` command',
    '',
    `\`conf\` prints these lines in this order, as ZooKeeper 3.8 does: ${CONF_LINES.filter((l) => !l.quorum).length} lines on a`,
    'standalone server, then a quorum peer\'s lines; the output of a quorum peer ends in `version=0`',
    'without a newline, as ZooKeeper\'s does.',
    '',
    '| line | from | shows |',
    '|---|---|---|',
    ...conf(false),
    ...conf(true),
    '',
    `The admin \`configuration\` command answers the same values as JSON: ${ADMIN_CONF_FIELDS.map(([f, l]) => `\`${f}\` (${l})`).join(', ')}.`,
    '',
    END,
  ].join('\n');
}

/** `doc` with the text between the markers replaced by the tables (the markers must be there). */
export function withKeyTables(doc: string): string {
  const a = doc.indexOf(BEGIN);
  const b = doc.indexOf(END);
  if (a < 0 || b < a) throw new Error('docs/configuration.md has no key-table markers');
  return doc.slice(0, a) + renderKeyTables() + doc.slice(b + END.length);
}
