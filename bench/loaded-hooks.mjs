// The resolve hook of bench/loaded-preload.mjs: every package an ESM import resolves to, and
// every lazy chunk of a bundle (dist/bundle/, where the packages a chunk needs are inside it).
import { note } from './loaded-note.mjs';

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (r.url.includes('/node_modules/')) note(r.url);
  const chunk = /\/dist\/bundle\/\w+\/([\w-]+?)-[\w-]{8}\.js$/.exec(r.url);
  if (chunk) note(`bundle:${chunk[1]}`);
  return r;
}
