import { createSocket } from 'unix-dgram';

const DEADLINE_MS = 5000;

/** A fake systemd: a unix datagram socket bound at a path, collecting the datagrams that arrive. */
export function fakeSystemd(sockPath: string) {
  const got: string[] = [];
  const sock = createSocket('unix_dgram', (msg) => got.push(msg.toString()));
  sock.bind(sockPath);
  return {
    got,
    /** Resolves once `pred` holds for what arrived, or with what arrived at the deadline. */
    async until(pred: (got: string[]) => boolean): Promise<string[]> {
      const deadline = Date.now() + DEADLINE_MS;
      while (!pred(got) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      return got;
    },
    async waitFor(n: number): Promise<string[]> {
      return this.until((g) => g.length >= n);
    },
    close: () => sock.close(),
  };
}
