import type { Config } from 'jest';

// ts-jest only transpiles (isolatedModules): fast, and it also turns jose's ESM build into
// CommonJS for jest. Type checking is `tsc --noEmit`, run before jest by `npm test`.
const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/test/e2e/'],
  transform: {
    // Before the general rule: jest takes the first pattern that matches.
    '/node_modules/@electric-sql/pglite/.+\\.cjs$': '<rootDir>/test/support/pglite-transform.cjs',
    '^.+\\.(t|j|mj)s$': ['ts-jest', { tsconfig: 'tsconfig.jest.json', isolatedModules: true }],
  },
  // Sources import with the `.js` extension Node needs at run time; jest resolves the .ts file.
  // The verifier package is mapped to its sources (as in tsconfig.json's paths): tests never need its build.
  moduleNameMapper: {
    '^@jts-auth/verifier$': '<rootDir>/packages/verifier/src/index.ts',
    '^@jts-auth/verifier/express$': '<rootDir>/packages/verifier/src/express/index.ts',
    '^@jts-auth/verifier/internal/(.*)\\.js$': '<rootDir>/packages/verifier/src/$1',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transformIgnorePatterns: ['/node_modules/(?!(jose|oauth4webapi|@electric-sql/pglite)/)'],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFilesAfterEnv: ['<rootDir>/test/support/after-file.ts'],
  testTimeout: 30_000,
  maxWorkers: 2,
};

export default config;
