// The CLI's two voices: progress lines on stdout, and one clear error line on stderr.
export function say(line: string): void {
  process.stdout.write(`osps: ${line}\n`);
}

/** Prints one error line and returns the exit code for "the operation failed". */
export function fail(message: string, code = 1): number {
  process.stderr.write(`osps: ${message}\n`);
  return code;
}

/** The launcher's progress lines in the JSON event stream: not events, so parsers skip them. */
export function sayJson(line: string): void {
  process.stdout.write(`${JSON.stringify({ ts: new Date().toISOString(), source: 'launcher', message: line })}\n`);
}
