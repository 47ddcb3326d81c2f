// Preloaded into the servers of a benchmark tree (NODE_OPTIONS=--import, which may not carry
// --cpu-prof): profiles the process from SIGTTIN (sent when the measured load starts, so
// start-up is left out) to its exit, and writes <pid>.cpuprofile into OSPS_BENCH_PROFILE_DIR.
// Processes other than servers are left alone.
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';

const dir = process.env.OSPS_BENCH_PROFILE_DIR;
if (dir && process.env.OSPS_ROLE) {
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  let started = false;
  process.on('SIGTTIN', () => {
    started = true;
    session.post('Profiler.start');
  });
  // An in-process session answers synchronously, so this completes inside the exit handler.
  process.on('exit', () => {
    if (!started) return;
    session.post('Profiler.stop', (err, res) => {
      if (!err) fs.writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
