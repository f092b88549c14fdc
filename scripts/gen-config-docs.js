#!/usr/bin/env node
// Rewrites the key tables of docs/configuration.md from src/config/keys.ts (built into dist/).
// `npm run docs:config` builds first; test/config-docs.test.ts fails when the file is stale.
const fs = require('node:fs');
const path = require('node:path');
const { withKeyTables } = require('../dist/config/keysdoc.js');
const file = path.join(__dirname, '..', 'docs', 'configuration.md');
const before = fs.readFileSync(file, 'utf8');
const after = withKeyTables(before);
fs.writeFileSync(file, after);
console.log(before === after ? 'docs/configuration.md: up to date' : 'docs/configuration.md: key tables rewritten');
