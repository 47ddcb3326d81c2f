import os from 'node:os';

/**
 * The sd_notify protocol (sd_notify(3)): newline-separated KEY=VALUE datagrams sent to the
 * AF_UNIX socket named by NOTIFY_SOCKET. Only the launcher (systemd's main PID) speaks it.
 */
export interface Notifier {
  /** NOTIFY_SOCKET as systemd gave it. */
  readonly socket: string;
  /** How often to call watchdog(): half of WATCHDOG_USEC, or null when systemd watches no one here. */
  readonly keepAliveMs: number | null;
  ready(status?: string): void;
  status(text: string): void;
  watchdog(): void;
  stopping(): void;
  close(): void;
}

export type NotifyLog = (line: string) => void;

export type NotifyAddress = { kind: 'path'; path: string } | { kind: 'abstract'; name: string };

/** `/run/systemd/notify` → a path; `@name` → the abstract namespace (Linux). Anything else is not for us. */
export function parseNotifySocket(value: string): NotifyAddress | null {
  if (value.startsWith('/')) return { kind: 'path', path: value };
  if (value.startsWith('@') && value.length > 1) return { kind: 'abstract', name: value.slice(1) };
  return null;
}

/**
 * The keep-alive period systemd expects, as sd_watchdog_enabled(3) decides it: WATCHDOG_USEC
 * applies to this process only if WATCHDOG_PID is unset or names it (children inherit the env).
 */
export function keepAliveMs(env: NodeJS.ProcessEnv, pid = process.pid): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!env.WATCHDOG_USEC || !Number.isSafeInteger(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid) return null;
  // Half the deadline, as systemd.service(5) advises: one late tick never costs the service.
  return Math.max(1, Math.floor(usec / 2000));
}

/** The env minus what tells a process it is systemd's main PID: for the children the launcher spawns. */
export function withoutNotifyEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NOTIFY_SOCKET: _s, WATCHDOG_USEC: _u, WATCHDOG_PID: _p, ...rest } = env;
  return rest;
}

/** One line of STATUS=: a newline would start a new KEY= in the datagram. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

function errnoName(code: unknown): string {
  if (code === 1) return 'receive queue full';
  if (typeof code === 'number' && code < 0) {
    const name = Object.entries(os.constants.errno).find(([, v]) => v === -code)?.[0];
    return name ?? `errno ${-code}`;
  }
  return String(code);
}

const defaultLog: NotifyLog = (line) => process.stderr.write(`${new Date().toISOString()} launcher ${line}\n`);

/**
 * Null when NOTIFY_SOCKET is unset (not under systemd), so the native addon is loaded only
 * when it is needed. Sending never throws: a gone socket (systemd re-executing) is logged
 * once per outage and the next datagram tries again.
 */
export async function createNotifier(env: NodeJS.ProcessEnv = process.env, log: NotifyLog = defaultLog): Promise<Notifier | null> {
  const socket = env.NOTIFY_SOCKET;
  if (!socket) return null;
  const address = parseNotifySocket(socket);
  if (address === null) {
    log(`sd-notify-off: NOTIFY_SOCKET=${socket} is neither a path nor @abstract`);
    return null;
  }
  const period = keepAliveMs(env);
  const send = await transport(address, socket, log);
  let failing = false;
  let closed = false;
  const notify = (message: string): void => {
    if (closed) return;
    const err = send(Buffer.from(message));
    if (err === null) {
      if (failing) log(`sd-notify-back: ${socket}`);
      failing = false;
    } else if (!failing) {
      failing = true;
      log(`sd-notify-failed: ${socket} (${err}); carrying on, the next message tries again`);
    }
  };
  return {
    socket,
    keepAliveMs: period,
    ready: (status) => notify(status === undefined ? 'READY=1' : `READY=1\nSTATUS=${oneLine(status)}`),
    status: (text) => notify(`STATUS=${oneLine(text)}`),
    watchdog: () => notify('WATCHDOG=1'),
    stopping: () => notify('STOPPING=1'),
    close: () => {
      if (closed) return;
      closed = true;
      send.close();
    },
  };
}

type Send = ((buf: Buffer) => string | null) & { close(): void };

async function transport(address: NotifyAddress, socket: string, log: NotifyLog): Promise<Send> {
  if (address.kind === 'abstract') {
    // unix-dgram copies the address with strncpy (which stops at the leading NUL) and passes
    // sizeof(sockaddr_un) as its length, so it can only ever reach the all-zero name; Node's
    // own dgram has no AF_UNIX. Said once here; each message is then dropped without a word.
    log(`sd-notify-off: NOTIFY_SOCKET=${socket} is an abstract socket, which unix-dgram cannot address (it copies the name with strncpy and a fixed length); no READY=1 or WATCHDOG=1 reaches systemd, so a Type=notify unit would time out: give it a path socket (systemd's own is /run/systemd/notify)`);
    return Object.assign(() => null, { close: () => {} });
  }
  // Loaded here, not at the top: a launcher outside systemd never maps the native addon.
  const { createSocket } = await import('unix-dgram');
  const path = address.path;
  // A socket per datagram: an open unix-dgram socket polls for input and would keep the
  // launcher's event loop alive, and a fresh one never holds on to a replaced socket file.
  const send = (buf: Buffer): string | null => {
    let result: string | null = null;
    try {
      const sock = createSocket('unix_dgram');
      sock.on('error', () => {}); // errors come back through the send callback
      try {
        // unix-dgram calls back synchronously (its README), so `result` is set on return.
        sock.send(buf, 0, buf.length, path, (err) => {
          if (err) result = errnoName(err.code);
        });
      } finally {
        sock.close();
      }
    } catch (err) {
      result = err instanceof Error ? err.message : String(err);
    }
    return result;
  };
  return Object.assign(send, { close: () => {} });
}
