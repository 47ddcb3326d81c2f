// The process entries osps spawns. `npm run build` emits each twice: tsc's modules
// (dist/<x>/main.js, which the tests import) and a bundle of each (dist/bundle/<x>/main.js,
// scripts/bundle.mjs), one file that loads in about half the time. The bundle is what runs.
import { fileURLToPath } from 'node:url';

const entry = (name: string): string => fileURLToPath(new URL(`../bundle/${name}/main.js`, import.meta.url));

export const WATCHDOG_MAIN = entry('watchdog');
export const SERVER_MAIN = entry('server');
