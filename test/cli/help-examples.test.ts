// Every command's --help ends with examples of its use.
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram } from '../../dist/cli/main.js';

function* commands(c: Command, prefix: string[] = []): Generator<[string, Command]> {
  for (const sub of c.commands) {
    const name = [...prefix, sub.name()];
    yield [name.join(' '), sub];
    yield* commands(sub, name);
  }
}

describe('--help', () => {
  it('of osps and of every command has an example', () => {
    const program = buildProgram();
    const helpOf = (c: Command): string => {
      let out = '';
      c.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) });
      c.outputHelp();
      return out;
    };
    expect(helpOf(program)).toMatch(/Examples:\n {2}\$ osps /);
    const missing = [...commands(program)].filter(([, c]) => !/Examples:\n {2}\$ osps /.test(helpOf(c))).map(([n]) => n);
    expect(missing).toEqual([]);
  });

  it('lists the event format of start', () => {
    const start = buildProgram().commands.find((c) => c.name() === 'start');
    expect(start?.options.map((o) => o.long)).toContain('--events');
  });
});
