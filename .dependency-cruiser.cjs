// The "may import" table of docs/architecture.md, enforced by `npm run deps` (part of `npm test`).
// Paths are relative to the repository root; a workspace import such as `@payhooks/core/ledger` resolves through
// its symlink to `packages/core/src/...`, so the rules speak of folders, not package names.
// packages/core/tests/architecture/boundaries.test.ts cruises a fixture tree with these same rules and checks that
// each forbidden arrow is reported.

/** Third-party packages the domain may use: nothing from AWS, no framework. */
const CORE_LIBRARIES = ['zod', 'postgres', 'ley', 'stripe', 'pino', 'csv-parse', 'csv-stringify'];
const AWS =
  '(^|/)node_modules/(@aws-sdk|@aws-lambda-powertools|@smithy|aws-lambda|@types/aws-lambda|sst|aws-cdk-lib|constructs)/';
const nodeModule = (names) => `(^|/)node_modules/(${names.map((n) => n.replace('/', '\\/')).join('|')})/`;

/** Runtime folder → workspace folders it must not import (`from` is a path regex). Tests are looser: a package's
 * tests may use the test kit and the local runtime's emulators, except core's (rule core-tests-core-and-testkit). */
const PACKAGE_RULES = [
  {
    name: 'functions-imports-core-only',
    from: '^packages/functions/src/',
    to: '^packages/(local|cli|bench|testkit)/',
  },
  {
    name: 'testkit-imports-core-only',
    from: '^packages/testkit/src/',
    to: '^packages/(functions|local|cli|bench)/',
  },
  { name: 'local-not-cli-or-bench', from: '^packages/local/src/', to: '^packages/(cli|bench)/' },
  {
    name: 'console-imports-core-only',
    comment:
      'the console (pages and API) is built on the domain; AWS and the local runtime wire it from outside',
    from: '^packages/console/src/',
    to: '^packages/(functions|local|cli|bench|testkit)/',
  },
  {
    name: 'cli-stage-commands-not-local',
    comment: 'commands that act on a deployed stage must work without the local runtime or the sandbox',
    from: '^packages/cli/src/(?!local/)',
    to: '^packages/(local|testkit|bench)/',
  },
  {
    name: 'stacks-no-packages',
    comment:
      'stacks reference handlers by path; the one exception is the console asset build they run at synthesis',
    from: '^(stacks/|sst\\.config\\.ts)',
    to: '^packages/',
    toNot: '^packages/console/src/(build|assets)\\.ts$',
  },
];

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'modules form a tree: a cycle means two rooms that cannot change apart',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'core-no-aws',
      severity: 'error',
      comment: 'the domain imports nothing from AWS (ports and adapters: AWS lives in packages/functions)',
      from: { path: '^packages/core/' },
      to: { path: AWS },
    },
    {
      name: 'core-libraries',
      severity: 'error',
      comment: `core's runtime may use node built-ins and only these libraries: ${CORE_LIBRARIES.join(', ')}`,
      from: { path: '^packages/core/src/' },
      to: {
        dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-no-pkg', 'npm-unknown'],
        pathNot: nodeModule(CORE_LIBRARIES),
      },
    },
    {
      name: 'core-imports-no-workspace',
      severity: 'error',
      comment: 'core is the bottom room: its runtime imports no other workspace package',
      from: { path: '^packages/core/src/' },
      to: { path: '^packages/(?!core/)' },
    },
    {
      name: 'core-tests-core-and-testkit',
      severity: 'error',
      comment: "core's tests run on core and the test kit alone",
      from: { path: '^packages/core/tests/' },
      to: { path: '^packages/(functions|local|cli|bench)/' },
    },
    {
      name: 'runtime-not-tests',
      severity: 'error',
      comment: 'runtime code never imports a test file or test helper',
      from: { path: '^packages/[^/]+/src/' },
      to: { path: '^packages/[^/]+/tests/' },
    },
    {
      name: 'ledger-knows-no-provider',
      severity: 'error',
      comment: 'providers register their tables and ranks with the ledger; the ledger never imports them',
      from: { path: '^packages/core/src/ledger/' },
      to: { path: '^packages/core/src/(providers|recon|ingress|backfill)/' },
    },
    ...[
      ['stripe', 'wechatpay'],
      ['wechatpay', 'stripe'],
    ].map(([from, to]) => ({
      name: `providers-apart-${from}`,
      severity: 'error',
      comment: 'one folder per provider: Stripe and WeChat Pay code never import each other',
      from: { path: `^packages/core/src/[^/]+/${from}(/|\\.ts$)` },
      to: { path: `^packages/core/src/[^/]+/${to}(/|\\.ts$)` },
    })),
    ...PACKAGE_RULES.map(({ name, comment, from, to, toNot }) => ({
      name,
      severity: 'error',
      ...(comment ? { comment } : {}),
      from: { path: from },
      to: { path: to, ...(toNot ? { pathNot: toNot } : {}) },
    })),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(\\.sst|\\.payhooks|bench-results|tests/architecture/fixture)/' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
      mainFields: ['module', 'main', 'types'],
    },
    builtInModules: { add: [] },
  },
};
