// The CLI's two voices: progress lines on stdout, and one clear error line on stderr.
export function say(line: string): void {
  process.stdout.write(`osps: ${line}\n`);
}

/** Prints one error line and returns the exit code for "the operation failed". */
export function fail(message: string, code = 1): number {
  process.stderr.write(`osps: ${message}\n`);
  return code;
}
