// Latency statistics shared by the load generator and the benchmarks.

export interface Summary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/**
 * Nearest-rank percentile (p in 0..100): always a value that was actually observed,
 * which is what a latency report should quote. NaN for no samples.
 */
export function percentile(samples: number[] | Float64Array, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile ${p} is outside 0..100`);
  return rank(sorted(samples), p);
}

export function summarize(samples: number[] | Float64Array): Summary {
  const s = sorted(samples);
  let sum = 0;
  for (const v of s) sum += v;
  const n = s.length;
  return {
    count: n,
    min: s[0] ?? NaN,
    mean: n ? sum / n : NaN,
    p50: rank(s, 50),
    p90: rank(s, 90),
    p99: rank(s, 99),
    p999: rank(s, 99.9),
    max: s[n - 1] ?? NaN,
  };
}

function rank(s: Float64Array, p: number): number {
  if (s.length === 0) return NaN;
  const i = Math.max(1, Math.ceil((p / 100) * s.length)) - 1;
  return s[i] ?? NaN;
}

/** A sorted copy: typed-array sort is numeric and never touches the caller's array. */
function sorted(samples: number[] | Float64Array): Float64Array {
  return Float64Array.from(samples).sort();
}
