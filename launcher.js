#!/usr/bin/env node
// Entry point for `node launcher.js` and the `osps` bin: runs the built CLI.
// First, before the CLI's modules load: SIGUSR1 must never open Node's inspector.
import './dist/runtime/no-inspector.js';

const { main } = await import('./dist/cli/main.js');

main(process.argv).catch((err) => {
  process.stderr.write(`osps: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
