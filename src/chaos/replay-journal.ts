// Replays a stopped instance's journal in a process of its own, with the same code a new
// primary runs, and prints what it rebuilt: the checker compares it with what was served.
//   node dist/chaos/replay-journal.js DATA_DIR
// One JSON line on stdout: {seq, keys, digest, state: [[key, value], …]}; exit 1 on failure.
import { ServiceHost } from '../host/host.js';
import { replayJournal } from '../journal/replay.js';
import { journalFile } from '../runtime/paths.js';
import { kvService, type KvState } from '../services/kv/service.js';
import { stateDigest } from './digest.js';

const dataDir = process.argv[2];
if (!dataDir) {
  process.stderr.write('usage: replay-journal.js DATA_DIR\n');
  process.exit(2);
}
try {
  const host = new ServiceHost<KvState>(kvService, { dedupWindow: 100_000 });
  replayJournal(journalFile(dataDir), host);
  const state = [...host.state.map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  process.stdout.write(`${JSON.stringify({ seq: host.seq, keys: state.length, digest: stateDigest(state), state })}\n`);
} catch (err) {
  process.stderr.write(`replay-journal: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
