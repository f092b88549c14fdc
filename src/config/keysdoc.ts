// docs/configuration.md's key tables, rendered from the key table (keys.ts). `npm run docs:config`
// writes them between the markers; test/config-docs.test.ts fails when the file differs.
import { KEYS, KeySpec } from './keys';

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
  string: 'text',
};

const cell = (s: string): string => s.replace(/\|/g, '\\|');

export function renderKeyTables(): string {
  const entries = Object.entries(KEYS);
  const impl = entries.filter(([, k]) => k.impl);
  const ignored = entries.filter(([, k]) => !k.impl);
  const row = ([key, k]: [string, KeySpec], reader: boolean): string =>
    `| \`${key}\` | ${TYPE[k.kind]}${k.min !== undefined ? ` ≥ ${k.min}` : ''} | ${cell(k.default)} | ${cell(k.meaning)} | ${reader ? `${cell(k.reader ?? '')} | ` : ''}${WHERE[k.origin]} |`;
  return [
    BEGIN,
    '',
    `### Keys zk-server implements (${impl.length})`,
    '',
    '| key | type | default | meaning | read by | given in |',
    '|---|---|---|---|---|---|',
    ...impl.map((e) => row(e, true)),
    '',
    `### Keys accepted and validated, but not implemented (${ignored.length})`,
    '',
    'Each is checked for its type, then listed in `ignoredKeys` and logged once at start-up as',
    '"config key accepted but not implemented; ignored". The default is ZooKeeper 3.8\'s.',
    '',
    '| key | type | default | meaning | given in |',
    '|---|---|---|---|---|',
    ...ignored.map((e) => row(e, false)),
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
