// docs/configuration.md's key tables are generated from the key table (src/config/keys.ts): this
// fails when someone changes a key without running `npm run docs:config`, and checks that the
// table covers what the loader reads.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KEYS } from '../src/config/keys';
import { withKeyTables } from '../src/config/keysdoc';

const DOC = path.join(__dirname, '..', 'docs', 'configuration.md');

describe('the zoo.cfg key table', () => {
  it('docs/configuration.md holds exactly the tables the key table renders (npm run docs:config)', () => {
    const doc = fs.readFileSync(DOC, 'utf8');
    expect(withKeyTables(doc) === doc, 'docs/configuration.md is stale: run npm run docs:config').toBe(true);
  });

  it('every key has a default and a meaning, and every implemented key names its reader', () => {
    for (const [key, k] of Object.entries(KEYS)) {
      expect(k.default, key).not.toBe('');
      expect(k.meaning.length, key).toBeGreaterThan(5);
      if (k.impl) expect(k.reader, key).toBeTruthy();
      else expect(k.reader, key).toBeUndefined();
    }
  });

  it('the documented implemented keys are the ones the loader implements', () => {
    const doc = fs.readFileSync(DOC, 'utf8');
    const implemented = doc.slice(doc.indexOf('### Keys zk-server implements'), doc.indexOf('### Keys accepted and validated'));
    for (const [key, k] of Object.entries(KEYS)) expect(implemented.includes(`| \`${key}\` |`), key).toBe(k.impl);
  });
});
