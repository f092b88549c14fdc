#!/bin/sh
':' //; exec node --initial-old-space-size=64 "$0" "$@"
// Run as a program, this file is a shell script first: the line above runs `:` (sh ignores the
// rest, a comment to JavaScript) and then execs node on this same file with the server's node
// flags (src/nodeflags.ts says why), keeping the process id. `#!/usr/bin/env -S node <flags>`
// would do the same where env knows -S, which BusyBox's (Alpine) does not. Under node the line
// is a string and a comment, ahead of 'use strict' in the directive prologue.
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('zk-server is not built yet: run `npm install` (or `npm run build`) in ' + path.join(__dirname, '..') + '\n');
  process.exit(1);
}
require(entry).main(process.argv).catch((e) => {
  process.stderr.write(String((e && e.stack) || e) + '\n');
  process.exit(1);
});
