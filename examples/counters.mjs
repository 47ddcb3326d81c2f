// counters.mjs: named counters; a counter can be set to reset itself after a while.
function fail(code, message) {
  throw Object.assign(new Error(message), { code });
}

export default {
  name: 'counters',
  init() {
    return { counts: {}, resets: {} };
  },
  commands: {
    add(state, { name, by = 1 } = {}) {
      if (typeof name !== 'string' || name === '') fail('BAD_NAME', 'name must be a non-empty string');
      if (!Number.isSafeInteger(by)) fail('BAD_BY', 'by must be an integer');
      state.counts[name] = (state.counts[name] ?? 0) + by;
      return state.counts[name];
    },
    expireIn(state, { name, ms }, ctx) {
      if (!(name in state.counts)) fail('NO_COUNTER', `no counter ${name}`);
      if (state.resets[name]) ctx.cancel(state.resets[name]);
      state.resets[name] = ctx.schedule('reset', ms, { name });
      return state.resets[name];
    },
  },
  queries: {
    get(state, { name } = {}) {
      return state.counts[name] ?? 0;
    },
  },
  timers: {
    reset(state, { name }) {
      delete state.counts[name];
      delete state.resets[name];
    },
  },
};
