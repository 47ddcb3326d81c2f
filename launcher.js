#!/usr/bin/env node
// Entry point for `node launcher.js` and the `osps` bin: runs the built CLI.
import { main } from './dist/cli/main.js';

main(process.argv).catch((err) => {
  process.stderr.write(`osps: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
