import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * e2e files share one lab and build on each other (00-lab, 10-init, 20-verify-failover): run them by name, one at a
 * time (fileParallelism is a root option, not a project one: test:e2e passes --no-file-parallelism)
 */
class ByName extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return [...files].sort((a, b) => a.moduleId.localeCompare(b.moduleId));
  }
}

export default defineConfig({
  test: {
    // the sequencer is global (not per project) in vitest
    sequence: { sequencer: ByName, shuffle: false },
    // src lines run by the unit project: `npm test`'s unit run (test:unit) and `npm run coverage` fail below the
    // thresholds (a root option in vitest, not a project one: only the unit runs ask for --coverage)
    coverage: {
      provider: 'v8',
      include: ['src/**'],
      reporter: ['text', 'json-summary'],
      reportsDirectory: 'coverage',
      // the numbers even when a test fails (another change in progress)
      reportOnFailure: true,
      thresholds: { lines: 90, branches: 85 },
    },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          sequence: { concurrent: false },
          pool: 'forks',
        },
      },
    ],
  },
});
