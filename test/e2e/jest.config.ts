import type { Config } from 'jest';

// End-to-end tests: real Chromium (playwright-core) against the built server (`node dist/server.js`)
// and a private redis-server. Run with `npm run test:e2e`, which builds first.
const config: Config = {
  rootDir: '../..',
  testEnvironment: 'node',
  roots: ['<rootDir>/test/e2e'],
  testMatch: ['**/*.e2e.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', isolatedModules: true }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transformIgnorePatterns: ['/node_modules/(?!jose/)'],
  // Each file starts its own server, Redis and browser, so the files can run side by side.
  maxWorkers: 3,
  testTimeout: 90_000,
  slowTestThreshold: 20,
};

export default config;
