// Imported first by every process entry. Node opens its inspector on 127.0.0.1:9229 when it
// gets SIGUSR1, and whoever reaches that port runs code as us; Node 20 has no
// --disable-sigusr1, but a SIGUSR1 listener replaces the inspector's signal handler.
process.on('SIGUSR1', () => {});
export {};
