// The watchdog's event lines: readable by default, one JSON object a line with --events json,
// and the same event either way.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EventLog, formatEvent } from '../../dist/watchdog/events.js';
import { parseEvent } from '../../dist/protocol/events.js';

function sink(): { out: Writable; lines: () => string[] } {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { out, lines: () => text.split('\n').filter(Boolean) };
}

describe('event lines', () => {
  const e = { ts: '2026-11-25T12:34:56.789Z', event: 'promoted' as const, role: 'primary', pid: 1234, epoch: 3, cause: 'ping missed' };

  it('text: time of day, name, k=v fields (quoted when they hold spaces)', () => {
    expect(formatEvent(e, 'text')).toBe('12:34:56.789 promoted role=primary pid=1234 epoch=3 cause="ping missed"\n');
  });

  it('json: one object a line that parseEvent reads back as the same event', () => {
    const line = formatEvent(e, 'json');
    expect(line.endsWith('\n')).toBe(true);
    expect(line.trim().includes('\n')).toBe(false);
    expect(parseEvent(line)).toEqual(e);
  });

  it('EventLog writes the chosen format on its stream, fields with no value left out', () => {
    const text = sink();
    const json = sink();
    new EventLog(null, text.out).emit('exited', { role: 'secondary', pid: 7, reason: undefined });
    new EventLog(null, json.out, 'json').emit('exited', { role: 'secondary', pid: 7, reason: undefined });
    expect(text.lines()[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} exited role=secondary pid=7$/);
    const parsed = parseEvent(json.lines()[0] as string);
    expect(parsed).toMatchObject({ event: 'exited', role: 'secondary', pid: 7 });
    expect(parsed && 'reason' in parsed).toBe(false);
  });
});
