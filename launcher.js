#!/usr/bin/env node
// Entry point for `node launcher.js` and the `osps` bin: runs the built CLI.
// First, before the CLI's modules load: SIGUSR1 must never open Node's inspector.
import './dist/runtime/no-inspector.js';

// `start` is every instance's first step: its own program, without the other commands'
// modules, bundled into one file (scripts/bundle.mjs) that loads faster than its modules.
const { main } = await import(process.argv[2] === 'start' ? './dist/bundle/cli/start-main.js' : './dist/cli/main.js');

main(process.argv).catch((err) => {
  process.stderr.write(`osps: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
