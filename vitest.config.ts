import { svelte } from '@sveltejs/vite-plugin-svelte'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real brokers, databases and child processes; two cores is all we have.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'core', include: ['test/**/*.test.ts'], exclude: ['test/ui/**', 'test/e2e/**'] },
      },
      {
        extends: true,
        plugins: [svelte()],
        // Svelte's browser build, as in the app.
        resolve: { conditions: ['browser'] },
        test: {
          name: 'ui',
          include: ['test/ui/**/*.test.ts'],
          environment: 'jsdom',
          setupFiles: ['test/ui/setup.ts'],
        },
      },
      {
        extends: true,
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
      },
    ],
  },
})
