// Loads a user's service module (ESM or CommonJS) and proves it is a definition osps can run,
// so a broken module is refused at start with one line instead of a crash loop later.
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { OspsError } from '../errors.js';
import { checkDefinition } from './host.js';
import type { ServiceDefinition } from './service.js';

/** Imports the module at `file` (absolute), checks its export and runs `init` once. */
export async function loadService(file: string): Promise<ServiceDefinition<unknown>> {
  const abs = path.resolve(file);
  const refuse = (problem: string): OspsError => new OspsError('SERVICE_INVALID', `service ${abs}: ${oneLine(problem)}`, { file: abs });
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch {
    throw refuse('no such file');
  }
  if (!stat.isFile()) throw refuse('not a file');
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (err) {
    throw refuse(`cannot be loaded: ${describe(err)}`);
  }
  // ESM `export default`, or CommonJS `module.exports` (which import() shows as default).
  const def = (mod.default ?? mod) as ServiceDefinition<unknown>;
  if (typeof def !== 'object' || def === null) throw refuse('its export is not a service definition (an object with init and commands)');
  try {
    checkDefinition(def);
  } catch (err) {
    throw refuse(`not a service definition: ${describe(err)}`);
  }
  try {
    const s = def.init();
    if (typeof (s as { then?: unknown } | null)?.then === 'function') throw new Error('init returned a Promise; it must be synchronous');
  } catch (err) {
    throw refuse(`init() threw: ${describe(err)}`);
  }
  return def;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name === 'Error' ? '' : `${err.name}: `}${err.message}` : String(err);
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').slice(0, 400);
}
