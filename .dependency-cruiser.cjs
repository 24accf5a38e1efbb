/**
 * The layer check (`npm run lint:layers`, part of `npm test`). Dependencies point down only; the
 * README's "Architecture" section lists the same layers in the same order.
 *
 * A module may import its own folder and any layer *below* its own. Two folders on one layer
 * (sessions and users, say) do not import each other.
 */
const LAYERS = [
  // Its sources, or its build: the server's imports resolve to dist/ once it is built (through the
  // package's exports map), to src/ before (tsconfig paths); both are the same layer.
  ['verifier package', '^packages/verifier/(src|dist)/'],
  ['jts', '^src/jts/'],
  ['verifier', '^src/verifier/'],
  ['infrastructure', '^src/redis/|^src/(thread-pool|version)\\.ts$'],
  ['sessions', '^src/sessions/'],
  ['users', '^src/users/'],
  ['accounts', '^src/accounts/'],
  ['config', '^src/config/'],
  ['key files', '^src/key-files/'],
  ['auth', '^src/auth/'],
  ['observability', '^src/observability/'],
  ['mail', '^src/mail/'],
  ['webhooks', '^src/webhooks/'],
  ['http', '^src/http/'],
  ['composition', '^src/(app|services)\\.ts$'],
  ['entry points', '^src/server\\.ts$|^src/cli/'],
];

/** Layers that sit side by side: neither may import the other. */
const SIBLINGS = [
  ['sessions', 'users'],
  ['mail', 'webhooks'],
];

/** Known exceptions, each removed by the issue named beside it (none left: issue 13 removed the last two). */
const KNOWN_EXCEPTIONS = [];

const upward = LAYERS.flatMap(([name, path], index) => {
  const above = LAYERS.slice(index + 1).filter(([other]) => !SIBLINGS.some((pair) => pair.includes(name) && pair.includes(other)));
  if (above.length === 0) return [];
  return [
    {
      name: `layer-${name.replace(/\s+/g, '-')}`,
      comment: `${name} may import only its own layer and the layers below it (README, Architecture)`,
      severity: 'error',
      from: { path },
      to: { path: above.map(([, p]) => `(${p})`).join('|') },
    },
  ];
});

const pathOf = (layer) => LAYERS.find(([name]) => name === layer)[1];

/** Per direction: one rule for the layer, and one per known exception that allows just its import. */
const siblings = SIBLINGS.flatMap(([a, b]) =>
  [
    [a, b],
    [b, a],
  ].flatMap(([from, to]) => {
    const exceptions = KNOWN_EXCEPTIONS.filter((e) => new RegExp(pathOf(from)).test(e.from.replace(/[\\^$]/g, '')));
    const rule = (suffix, fromPath, fromNot, toNot) => ({
      name: `no-sibling-${from}-${to}${suffix}`,
      comment: `${from} and ${to} are side by side; neither imports the other (known exceptions name their issue)`,
      severity: 'error',
      from: { path: fromPath, ...(fromNot ? { pathNot: fromNot } : {}) },
      to: { path: pathOf(to), ...(toNot ? { pathNot: toNot } : {}) },
    });
    return [
      rule('', pathOf(from), exceptions.map((e) => e.from).join('|') || undefined, undefined),
      ...exceptions.map((e, i) => rule(`-except-${i + 1}`, e.from, undefined, e.to)),
    ];
  }),
);

module.exports = {
  forbidden: [
    {
      name: 'jts-is-pure',
      comment: 'src/jts is the protocol: no Express, no ioredis, nothing outside src/jts but the verifier package, jose and Node',
      severity: 'error',
      from: { path: '^src/jts/' },
      to: { pathNot: '^src/jts/|^packages/verifier/(src|dist)/|^node_modules/jose/', dependencyTypesNot: ['core', 'type-only'] },
    },
    {
      name: 'jts-types-are-pure',
      comment: 'not even a type from a framework or a store leaks into the protocol',
      severity: 'error',
      from: { path: '^src/jts/' },
      to: { dependencyTypes: ['type-only'], pathNot: '^src/jts/|^packages/verifier/(src|dist)/|^node_modules/jose/|^node_modules/@types/node/' },
    },
    {
      name: 'verifier-package-stands-alone',
      comment: 'the published package (packages/verifier) runs on its own: its code imports itself, jose and Node only',
      severity: 'error',
      from: { path: '^packages/verifier/src/' },
      to: { pathNot: '^packages/verifier/src/|^node_modules/jose/', dependencyTypesNot: ['core', 'type-only'] },
    },
    {
      name: 'verifier-package-types',
      comment: 'its types may also name Express (an optional peer dependency), nothing else',
      severity: 'error',
      from: { path: '^packages/verifier/src/' },
      to: { dependencyTypes: ['type-only'], dependencyTypesNot: ['core'], pathNot: '^packages/verifier/src/|^node_modules/(jose|express|@types/node|@types/express|@types/express-serve-static-core)/' },
    },
    {
      name: 'client-stands-alone',
      comment:
        'the browser client is built on its own and imports nothing from the server; the one exception is the types of @simplewebauthn/browser, which the page loads by URL from /assets/vendor (page-passkeys.ts)',
      severity: 'error',
      from: { path: '^src/client/' },
      to: { pathNot: ['^src/client/', '^node_modules/@simplewebauthn/browser/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'no-circular',
      comment: 'a cycle makes load order matter and layers meaningless',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    ...upward,
    ...siblings,
  ],
  options: {
    // The package's build is checked as its sources (cruised from packages/verifier/src).
    doNotFollow: { path: 'node_modules|^packages/verifier/dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.d.ts'] },
    exclude: { path: '^src/client/.*\\.d\\.ts$' },
  },
};
