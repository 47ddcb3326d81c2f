// Reading an osps config file: parse, validate against the schema, and turn every problem
// into one error that names the file, the field path, the bad value and what is allowed.
import fs from 'node:fs';
import path from 'node:path';
import * as v from 'valibot';
import { OspsError } from '../errors.js';
import { FileSchema, INSTANCE_FIELDS, type InstanceFields } from './config-schema.js';

export interface ConfigFile {
  file: string;
  /** One entry per declared instance, top-level defaults merged in, paths made absolute. */
  instances: InstanceFields[];
}

const PATH_FIELDS = ['dataDir', 'runtimeDir', 'service', 'curveSecretFile'] as const;

function issuePath(issue: v.BaseIssue<unknown>): string {
  let out = '';
  for (const item of issue.path ?? []) {
    const key = (item as { key: unknown }).key;
    out += typeof key === 'number' ? `[${key}]` : out === '' ? String(key) : `.${String(key)}`;
  }
  return out || '(top level)';
}

function shown(x: unknown): string {
  const s = JSON.stringify(x);
  return s === undefined ? String(x) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** What the schema allows at that place, in words. */
function allowed(issue: v.BaseIssue<unknown>): string {
  if (issue.type === 'strict_object' || issue.kind === 'schema' && issue.type === 'never') {
    const inInstances = (issue.path ?? []).some((p) => (p as { key: unknown }).key === 'instances');
    const keys = Object.keys(INSTANCE_FIELDS).concat(inInstances ? [] : ['instances']);
    return `no such field; allowed: ${keys.join(', ')}`;
  }
  if (issue.type === 'regex' || issue.type === 'min_length') return issue.message;
  if (issue.type === 'min_value') return `a value >= ${String(issue.requirement)}`;
  if (issue.type === 'max_value') return `a value <= ${String(issue.requirement)}`;
  if (issue.type === 'integer') return 'an integer';
  return issue.expected ?? issue.message;
}

export function describeIssue(file: string, issue: v.BaseIssue<unknown>): string {
  const where = issuePath(issue);
  if (issue.type === 'strict_object') return `${file}: ${where}: unknown field; ${allowed(issue).replace(/^no such field; /, '')}`;
  return `${file}: ${where}: got ${shown(issue.input)}; expected ${allowed(issue)}`;
}

export function loadConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new OspsError('USAGE', `${file}: cannot read the config file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new OspsError('USAGE', `${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = v.safeParse(FileSchema, raw);
  if (!parsed.success) throw new OspsError('USAGE', parsed.issues.slice(0, 5).map((i) => describeIssue(file, i)).join('\n       '));
  const { instances, $schema: _schema, ...top } = parsed.output;
  const list = instances ? instances.map((i) => ({ ...top, ...i })) : [top];
  const names = list.map((i) => i.name ?? 'default');
  const dup = names.find((n, k) => names.indexOf(n) !== k);
  if (dup !== undefined) throw new OspsError('USAGE', `${file}: instances: got the name ${shown(dup)} twice; expected one entry per instance name`);
  const dir = path.dirname(path.resolve(file));
  for (const inst of list) {
    for (const k of PATH_FIELDS) if (inst[k] !== undefined) inst[k] = path.resolve(dir, inst[k]);
  }
  return { file, instances: list };
}

/** The instance `name` of the file, or its only instance when `name` is undefined. */
export function pickInstance(cf: ConfigFile, name: string | undefined): InstanceFields {
  // One instance: --name, like every flag, overrides the file's name.
  if (cf.instances.length === 1) return cf.instances[0]!;
  if (name === undefined) {
    throw new OspsError('USAGE', `${cf.file} declares ${cf.instances.length} instances (${cf.instances.map((i) => i.name).join(', ')}): pick one with --name, or start them all with --detach`);
  }
  const hit = cf.instances.find((i) => (i.name ?? 'default') === name);
  if (!hit) throw new OspsError('USAGE', `${cf.file}: no instance named ${shown(name)}; it declares ${cf.instances.map((i) => i.name ?? 'default').join(', ')}`);
  return hit;
}
