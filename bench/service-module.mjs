// The user module the service bench runs: a string map like the built-in `set`, and a timer
// that records how late it fired (ctx.now when applied, minus when it was due).
export default {
  name: 'bench',
  init: () => ({ map: {}, late: [] }),
  commands: {
    put(state, { key, value }) {
      state.map[key] = value;
      return 'OK';
    },
    arm(state, { delayMs }, ctx) {
      ctx.schedule('due', delayMs, { due: ctx.now + delayMs });
      return null;
    },
  },
  queries: {
    lateness: (state) => state.late,
  },
  timers: {
    due(state, { due }, ctx) {
      state.late.push(ctx.now - due);
    },
  },
};
