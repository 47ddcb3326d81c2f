// Preloaded into the servers by bench/profile.mjs (NODE_OPTIONS=--import; Node 20 refuses
// --cpu-prof there): the first SIGURG starts a V8 CPU profile, the second writes it to
// $OSPS_PROFILE_DIR/<role>.<pid>.cpuprofile. Other processes load it and do nothing.
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';

const dir = process.env.OSPS_PROFILE_DIR;
const role = process.env.OSPS_ROLE;
if (dir && role) {
  const session = new inspector.Session();
  session.connect();
  let running = false;
  process.on('SIGURG', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () => session.post('Profiler.start'));
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, res) => {
      if (!err) fs.writeFileSync(path.join(dir, `${role}.${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
