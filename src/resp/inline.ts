// Splits an inline command line into arguments the way redis-server does (sdssplitargs):
// blanks separate, "double quotes" take \n \r \t \b \a \\ \" and \xHH escapes,
// 'single quotes' take \' only, and a closing quote must be followed by a blank or the end.

const BLANK = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);
const ESCAPES: Record<number, number> = { 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x62: 0x08, 0x61: 0x07 };

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** The arguments of one line, or null when its quotes are unbalanced. */
export function splitInline(line: Buffer): Buffer[] | null {
  const args: Buffer[] = [];
  const end = line.length;
  let p = 0;
  for (;;) {
    while (p < end && BLANK.has(line[p]!)) p++;
    if (p >= end) return args;
    const cur: number[] = [];
    let quote = 0; // 0, or the quote character we are inside
    for (;;) {
      const c = line[p];
      if (quote === 0x22) {
        if (c === undefined) return null;
        const h1 = hexValue(line[p + 2]);
        const h2 = hexValue(line[p + 3]);
        if (c === 0x5c && line[p + 1] === 0x78 && h1 >= 0 && h2 >= 0) {
          cur.push(h1 * 16 + h2);
          p += 3;
        } else if (c === 0x5c && p + 1 < end) {
          p++;
          const e = line[p]!;
          cur.push(ESCAPES[e] ?? e);
        } else if (c === 0x22) {
          if (p + 1 < end && !BLANK.has(line[p + 1]!)) return null;
          p++;
          break;
        } else cur.push(c);
      } else if (quote === 0x27) {
        if (c === undefined) return null;
        if (c === 0x5c && line[p + 1] === 0x27) {
          cur.push(0x27);
          p++;
        } else if (c === 0x27) {
          if (p + 1 < end && !BLANK.has(line[p + 1]!)) return null;
          p++;
          break;
        } else cur.push(c);
      } else {
        if (c === undefined || BLANK.has(c)) break;
        if (c === 0x22 || c === 0x27) quote = c;
        else cur.push(c);
      }
      p++;
    }
    args.push(Buffer.from(cur));
  }
}
