/**
 * Test files that run after the others, by themselves: their `rapport serve` sends webhooks for
 * every workspace of the database, other tests' deliveries among them, and is killed mid-way.
 */
export const RUN_ALONE = ['test/webhooks/sigkill.full.test.ts'];
