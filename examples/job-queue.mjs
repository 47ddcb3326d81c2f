// A job queue with visibility timeouts, as an osps service (SERVICE.md).
//
// A worker claims a job, does it, and acknowledges it. A claimed job that is not
// acknowledged within its visibility timeout goes back to the queue, driven by a replicated
// timer, so a worker that dies mid-job loses nothing and no job is ever lost by a failover.
//
//   osps start --service examples/job-queue.mjs
//   osps client call enqueue '{"payload":{"url":"https://example.org"}}'
//   osps client call claim '{"worker":"w1","visibilityMs":30000}'
//   osps client call ack '{"job":"1","token":"…"}'

const VISIBILITY_MS = 30_000;

function fail(code, message) {
  throw Object.assign(new Error(message), { code });
}

export default {
  name: 'job-queue',

  init() {
    // ready: job ids in FIFO order; jobs: id → {payload, state, worker, token, timer, attempts}
    return { nextId: 1, ready: [], jobs: {}, done: 0 };
  },

  commands: {
    enqueue(state, { payload = null } = {}) {
      const id = String(state.nextId++);
      state.jobs[id] = { payload, state: 'ready', worker: null, token: null, timer: null, attempts: 0 };
      state.ready.push(id);
      return { job: id };
    },

    claim(state, { worker, visibilityMs = VISIBILITY_MS } = {}, ctx) {
      if (typeof worker !== 'string' || worker === '') fail('BAD_ARGS', 'worker must be a non-empty string');
      if (!Number.isInteger(visibilityMs) || visibilityMs < 1) fail('BAD_ARGS', 'visibilityMs must be a positive integer');
      const id = state.ready.shift();
      if (id === undefined) return null;
      const job = state.jobs[id];
      job.state = 'claimed';
      job.worker = worker;
      job.attempts += 1;
      // The token proves the ack comes from this claim, not an earlier one that timed out.
      job.token = `${id}.${job.attempts}.${Math.floor(ctx.random() * 1e9)}`;
      job.timer = ctx.schedule('expire', visibilityMs, { job: id, token: job.token });
      return { job: id, token: job.token, payload: job.payload, attempts: job.attempts };
    },

    ack(state, { job, token } = {}, ctx) {
      const j = state.jobs[job];
      if (!j) fail('NO_SUCH_JOB', `no job ${job}`);
      if (j.state !== 'claimed' || j.token !== token) fail('NOT_CLAIMED', `job ${job} is not claimed with that token`);
      ctx.cancel(j.timer);
      delete state.jobs[job];
      state.done += 1;
      return { job, done: true };
    },
  },

  queries: {
    stats(state) {
      const claimed = Object.values(state.jobs).filter((j) => j.state === 'claimed').length;
      return { ready: state.ready.length, claimed, done: state.done };
    },
    job(state, { job } = {}) {
      return state.jobs[job] ?? null;
    },
  },

  timers: {
    // The claim ran out: the job goes back to the front of the queue for another worker.
    expire(state, { job, token }) {
      const j = state.jobs[job];
      if (!j || j.state !== 'claimed' || j.token !== token) return;
      j.state = 'ready';
      j.worker = null;
      j.token = null;
      j.timer = null;
      state.ready.unshift(job);
    },
  },
};
