// The resolve hook of bench/loaded-preload.mjs: every package an ESM import resolves to.
import { note } from './loaded-note.mjs';

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.url.includes('/node_modules/')) note(r.url);
  return r;
}
