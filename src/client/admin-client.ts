import fs from 'node:fs';
import * as zmq from 'zeromq';
import type { AdminReply, AdminRequest } from '../protocol/admin.js';
import type { RuntimePaths } from '../runtime/paths.js';

/** One request to a running watchdog's admin socket; null when nobody answers in time. */
export async function adminRequest(paths: RuntimePaths, req: AdminRequest, timeoutMs = 1500): Promise<AdminReply | null> {
  const sockFile = paths.controlEndpoint.slice('ipc://'.length);
  if (!fs.existsSync(sockFile)) return null;
  const sock = new zmq.Dealer({ linger: 0, receiveTimeout: timeoutMs, sendTimeout: timeoutMs });
  try {
    sock.connect(paths.controlEndpoint);
    await sock.send(JSON.stringify(req));
    const [frame] = await sock.receive();
    return frame ? (JSON.parse(frame.toString('utf8')) as AdminReply) : null;
  } catch {
    return null;
  } finally {
    sock.close();
  }
}
