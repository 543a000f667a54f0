import fc from 'fast-check';
import type { Test } from 'tap';

/**
 * Checks a synchronous property with a fixed seed, so a run is reproducible, and reports it as one
 * tap assertion: on failure its message is fast-check's report (counterexample, seed and path).
 */
export function holds<Ts>(t: Test, property: fc.IProperty<Ts>, params: fc.Parameters<Ts> & { seed: number }): void {
  const details = fc.check(property, params);
  if (details.failed) t.fail(fc.defaultReportMessage(details) ?? 'the property failed');
  else t.pass(`holds on ${details.numRuns} runs (seed ${params.seed})`);
}
