// The RESP front door: a TCP server speaking RESP2 to Redis clients, answering through a
// RespBackend. Connections are capped (one over the cap is told so and closed, as
// redis-server does) and each one is bounded (connection.ts).
import net from 'node:net';
import type { RespBackend } from './backend.js';
import { CommandTable } from './commands.js';
import { type CloseReason, RespConnection } from './connection.js';
import * as enc from './encoder.js';
import { CLOSE_GRACE_MS, type RespServerLimits, serverLimits } from './limits.js';

const MAX_CLIENTS = enc.error('ERR max number of clients reached');

export type RespServerEvent =
  | { kind: 'closed'; reason: CloseReason; remote: string }
  | { kind: 'refused'; remote: string }
  /** accept() failed (EMFILE: out of descriptors); libuv drops that connection and goes on. */
  | { kind: 'accept-error'; code: string };

export interface RespServerOptions {
  limits?: Partial<RespServerLimits>;
  /** Told when a connection closes for a reason worth logging (protocol error, output limit, over the cap). */
  onEvent?: (event: RespServerEvent) => void;
}

export class RespServer {
  readonly limits: RespServerLimits;
  private readonly server: net.Server;
  private readonly table: CommandTable;
  private readonly connections = new Set<RespConnection>();
  /** Sockets over the cap, being told so. */
  private readonly refused = new Set<net.Socket>();
  private nextClientId = 1;

  constructor(
    backend: RespBackend,
    private readonly opts: RespServerOptions = {},
  ) {
    this.limits = serverLimits(opts.limits);
    this.table = new CommandTable(backend, { connectedClients: () => this.connections.size });
    this.server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  /** Listens on host:port (port 0: one the kernel picks); resolves with the port bound. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host, port, exclusive: true }, () => {
        this.server.off('error', onError);
        this.server.on('error', (err: NodeJS.ErrnoException) => this.opts.onEvent?.({ kind: 'accept-error', code: err.code ?? err.message }));
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Stops accepting, closes every connection, resolves once the port is released. */
  close(): Promise<void> {
    for (const c of this.connections) c.destroy('server');
    for (const s of this.refused) s.destroy();
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
    });
  }

  private accept(socket: net.Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.on('error', () => {});
    if (this.connections.size >= this.limits.maxConnections) {
      this.opts.onEvent?.({ kind: 'refused', remote });
      this.refused.add(socket);
      socket.on('close', () => this.refused.delete(socket));
      socket.end(MAX_CLIENTS, () => socket.destroy());
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
      return;
    }
    const conn = new RespConnection(socket, this.table, this.limits, { id: this.nextClientId++, name: null, closeAfterReply: false }, (c) => {
      this.connections.delete(c);
      if (c.reason !== 'end' && c.reason !== 'quit' && c.reason !== 'server') this.opts.onEvent?.({ kind: 'closed', reason: c.reason, remote });
    });
    this.connections.add(conn);
  }
}
