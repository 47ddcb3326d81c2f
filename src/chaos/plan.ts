// The fault sequence of a seed, drawn from the fault table: the same seed, count and alarm
// always give the same plan, so a failure replays with the seed the report printed.
import { FAULTS, faultSpec, type Draw, type FaultName, type FaultOptions } from './faults.js';
import { mulberry32 } from '../protocol/prng.js';

export interface PlannedFault {
  fault: FaultName;
  opts: FaultOptions;
}

/** The faults a chaos run draws from (the table says which). */
export const CHAOS_FAULTS: readonly FaultName[] = FAULTS.filter((f) => faultSpec(f).plan !== null);

export function planFaults(seed: number, count: number, alarmMs: number): PlannedFault[] {
  const rng = mulberry32(seed);
  const draw: Draw = { rng, pick: <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T };
  const plan: PlannedFault[] = [];
  for (let i = 0; i < count; i++) {
    const fault = draw.pick(CHAOS_FAULTS);
    plan.push({ fault, opts: faultSpec(fault).plan?.(draw, alarmMs) ?? {} });
  }
  return plan;
}

/** The fault plus its options, e.g. `pause --role secondary --for 233`: how the report groups faults. */
export function kindOf(fault: FaultName, opts: FaultOptions): string {
  let k: string = fault;
  if (opts.role) k += ` --role ${opts.role}`;
  if (opts.pipe) k += ` --pipe ${opts.pipe}`;
  if (opts.how && opts.how !== 'frame') k += ` --how ${opts.how}`;
  if (opts.where === 'header') k += ' --where header';
  if (opts.delayMs !== undefined) k += ` --delay ${opts.delayMs}`;
  if (opts.forMs !== undefined) k += ` --for ${opts.forMs}`;
  if (opts.times !== undefined) k += ` --times ${opts.times}`;
  return k;
}
