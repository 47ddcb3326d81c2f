// What a chaos run prints while it goes: plain lines when stderr is not a terminal, and on a
// terminal also a status line (fault i/N, elapsed, findings) redrawn in place.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Progress } from '../../dist/chaos/progress.js';

function sink(): { out: Writable; text: () => string } {
  let text = '';
  return {
    out: new Writable({
      write(chunk: Buffer, _enc, cb) {
        text += chunk.toString();
        cb();
      },
    }),
    text: () => text,
  };
}

describe('chaos progress', () => {
  it('not a terminal: one plain line per message, no control characters', () => {
    const s = sink();
    const p = new Progress(s.out, false, 3);
    p.say('instance x');
    p.fault(0, 'fault 1/3 kill-primary', 'invariants held so far');
    p.done();
    expect(s.text()).toBe('osps chaos: instance x\nosps chaos: fault 1/3 kill-primary\n');
  });

  it('a terminal: the lines stay, and a status line with the count, the time and the findings follows them', () => {
    const s = sink();
    const p = new Progress(s.out, true, 20);
    p.fault(4, 'fault 5/20 pause --role primary --for 233', 'needless restarts 1');
    expect(s.text()).toContain('osps chaos: fault 5/20 pause --role primary --for 233\n');
    expect(s.text()).toMatch(/\r\x1b\[K5\/20 faults done, 0:0\d elapsed, needless restarts 1$/);
    p.done();
    expect(s.text().endsWith('\r\x1b[K')).toBe(true);
  });

  it('--json: nothing at all', () => {
    const p = new Progress(null, true, 5);
    p.say('x');
    p.done();
  });
});
