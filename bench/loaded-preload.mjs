// Preloaded (NODE_OPTIONS=--import) into every process of a tree by bench/watchdog-lean.mjs:
// notes every package a process loads, by import (an ESM resolve hook, loaded-hooks.mjs) or
// by require (Module._load), so the bench shows what the watchdog really loaded.
import Module, { register } from 'node:module';
import { note } from './loaded-note.mjs';

if (process.env.OSPS_BENCH_LOADED) {
  register('./loaded-hooks.mjs', import.meta.url);
  const load = Module._load;
  Module._load = function (request, ...rest) {
    if (!Module.isBuiltin(request)) note(request);
    return load.call(this, request, ...rest);
  };
}
