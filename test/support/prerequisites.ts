// Skipping for a missing prerequisite, as the project allows it: loudly, and never under CI=true,
// where the test runs anyway and fails on what is missing.

/** The `skip` option of a test that needs something this machine may lack. */
export function skipWithout(present: boolean, what: string): string | false {
  if (present || process.env.CI === 'true') return false;
  process.stderr.write(`\n*** SKIPPING a test: ${what} ***\n`);
  return what;
}
