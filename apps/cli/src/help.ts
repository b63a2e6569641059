// What `--help` shows beyond the options: a description and examples for every command. Kept in
// one table (keyed by the command path without the program name) so the command definitions stay
// short; a command defined with its own "Examples:" text (addHelpText) keeps it. A test walks the
// whole command tree and fails on any command without a description or examples.
import type { Command } from 'commander';

/** The primary command name (`helm` stays as an alias bin; Kubernetes Helm owns that name too). */
export const CLI_NAME = 'helmts';

export interface CommandHelp {
  /** Used when the command was defined without a description. */
  readonly summary?: string;
  /** Command lines (without `$ `), each optionally followed by `  # comment`. */
  readonly examples: readonly string[];
  /** Extra lines shown after the examples. */
  readonly notes?: readonly string[];
}

const H = CLI_NAME;

export const COMMAND_HELP: Readonly<Record<string, CommandHelp>> = {
  '': {
    examples: [
      `${H} init                                   # a data directory in ./.helm`,
      `${H} tool register echo.json`,
      `${H} run --tool echo --principal local --args '{"x":1}'`,
      `${H} export -o pack.tar && ${H} verify pack.tar`,
      `${H} -d /srv/helm keys list                 # another data directory`,
    ],
    notes: [
      `Every command takes --json. Exit codes: 0 ok, 1 denied or check failed, 2 usage or internal error.`,
      `\`${H} <command> --help\` shows a command's options and examples; docs/cli.md has the details.`,
    ],
  },
  doctor: {
    examples: [
      `${H} doctor`,
      `${H} doctor --json`,
      `${H} doctor --database-url 'postgres://helm_app@db:5432/helm?sslmode=verify-full'   # also the shared database`,
    ],
  },
  db: {
    examples: [
      `${H} db migrate --database-url 'postgres://helm_migrator@db:5432/helm?sslmode=verify-full' --grant-to helm_app`,
      `HELM_DATABASE_URL='postgres://helm_app@db:5432/helm?sslmode=verify-full' ${H} db status`,
    ],
    notes: ['docs/deployment.md: roles, backups, replication and failover.'],
  },
  'db migrate': {
    examples: [
      `${H} --database-url 'postgres://helm_migrator@db:5432/helm?sslmode=verify-full' db migrate`,
      `${H} db migrate --database-url 'postgres://helm_migrator@db:5432/helm?sslmode=verify-full' --schema helm --grant-to helm_app --json`,
    ],
  },
  'db status': {
    examples: [
      `${H} db status --database-url 'postgres://helm_app@db:5432/helm?sslmode=verify-full'`,
      `HELM_DATABASE_URL='postgres://helm_app@db:5432/helm?sslmode=verify-full' ${H} db status --json`,
    ],
  },
  'db publish-trust': {
    examples: [
      `${H} --data-dir ./node-template db publish-trust --database-url 'postgres://helm_app@db:5432/helm?sslmode=verify-full'`,
      `HELM_DATABASE_URL='postgres://helm_app@db:5432/helm?sslmode=verify-full' ${H} db publish-trust --json`,
    ],
    notes: [
      'Once per deployment; every node is a copy of that data directory with its own chain_id (docs/deployment.md).',
    ],
  },
  demo: { examples: [`${H} demo`, `${H} demo --keep ./demo-home   # keep the data directory to explore it`] },
  init: {
    examples: [
      `${H} init`,
      `${H} -d /srv/helm init --root-keys 3 --root-threshold 2 --root-key-dir /media/helm-root`,
    ],
  },
  keys: { examples: [`${H} keys list`, `${H} keys generate approver-4 --role approver`] },
  'keys list': {
    summary: 'list the key files and the registry keys valid now (roles and status from the registry)',
    examples: [`${H} keys list`, `${H} keys list --json`],
  },
  'keys generate': {
    summary: 'generate a key and publish it in the trust registry (root-signed)',
    examples: [
      `${H} keys generate approver-4 --role approver`,
      `${H} keys generate ops --role policy --root-key-dir /media/helm-root`,
    ],
  },
  'keys rotate': {
    examples: [`${H} keys rotate executor`, `${H} keys rotate executor --root-key-dir /media/helm-root`],
  },
  'keys revoke': {
    examples: [`${H} keys revoke approver-3`, `${H} keys revoke --keyid ed25519:<64 hex>`],
  },
  trust: { examples: [`${H} trust head`] },
  'trust head': { examples: [`${H} trust head`, `${H} trust head --json`] },
  policy: { examples: [`${H} policy show`, `${H} policy sign bundle.json`] },
  'policy validate': {
    summary: 'check a P0 document or P1 bundle (plain or signed)',
    examples: [`${H} policy validate bundle.json`, `${H} policy validate policy/bundle.signed.json --json`],
  },
  'policy hash': {
    summary: "print the SHA-256 of a document's RFC 8785 JCS bytes",
    examples: [`${H} policy hash bundle.json`],
  },
  'policy sign': {
    summary:
      'sign a P1 bundle with the policy key and install it as the active bundle (with a database: publish it to every node)',
    examples: [`${H} policy validate bundle.json && ${H} policy sign bundle.json`],
  },
  'policy publish': {
    summary:
      'publish a P1 bundle (source or signed) as a signed policy.publish governance event: every runtime on the store, every node of a shared database, decides under it from its next decision',
    examples: [
      `${H} policy publish bundle.json --database-url 'postgres://helm_app@db:5432/helm?sslmode=verify-full'`,
      `HELM_DATABASE_URL='postgres://helm_app@db:5432/helm?sslmode=verify-full' ${H} policy publish policy/bundle.signed.json --json`,
    ],
  },
  'policy show': { examples: [`${H} policy show`, `${H} policy show --json`] },
  tool: {
    examples: [
      `${H} tool register echo.json`,
      `${H} tool register wasm-echo.json --wasm echo.wat`,
      `${H} tool list`,
    ],
  },
  'tool register': {
    examples: [
      `${H} tool register echo.json                          # a built-in function (driver.ref builtin.echo)`,
      `${H} tool register wasm-echo.json --wasm echo.wasm    # a WASM module (or WAT text: compiled with wabt)`,
      `${H} tool register fmt.json --component fmt.wasm      # a WASI preview2 command component`,
      `${H} tool register lookup.json --driver ./lookup.mjs  # your own JavaScript (docs/cli.md §Plugin tools)`,
      `${H} tool register weather.json                       # an http driver (allow its host: config.json egress)`,
    ],
    notes: [
      `A name that is already registered with another descriptor is refused (TOOL_ALREADY_REGISTERED):`,
      `change a registered tool with \`${H} tool repin\`, which is signed and receipted.`,
    ],
  },
  'tool repin': {
    examples: [
      `${H} tool repin echo.json                             # a reviewed change of the descriptor`,
      `${H} tool repin lookup.json --driver ./lookup.mjs     # after editing (and reviewing) a plugin`,
      `${H} tool repin wasm-echo.json --wasm echo-v2.wat`,
    ],
    notes: [
      'The change is checked first, then appended as a tool.repin governance event signed by the policy key;',
      'the runtime applies it (now, or before the next decision of a running server) and writes a',
      'helm.admin.tool.repin receipt, so an EvidencePack shows who changed the tool and when.',
    ],
  },
  'tool list': { examples: [`${H} tool list`, `${H} tool list --json`] },
  run: {
    examples: [
      `${H} run --tool echo --principal local --args '{"x":1}'`,
      `${H} run --tool echo --principal local --credential cred-local --idempotency-key job-42 --args '{"x":2}'`,
      `${H} run --tool echo --principal local --args '{"x":1}' --json`,
      `${H} run --challenge sha256:<hex>                   # the approved call, once`,
      `${H} --database-url 'postgres://helm_app@db:5432/helm?sslmode=verify-full' run --tool echo --principal local --credential cred-local`,
    ],
  },
  identity: {
    examples: [`${H} identity list`, `${H} identity add cred-alice --principal alice`],
  },
  'identity add': {
    examples: [
      `${H} identity add cred-alice --principal alice`,
      `${H} identity add cred-ci --principal ci --tenant acme`,
    ],
  },
  'identity list': { examples: [`${H} identity list`, `${H} identity list --json`] },
  'identity remove': { examples: [`${H} identity remove cred-alice`] },
  egress: { examples: [`${H} egress list`, `${H} egress allow api.example.com`] },
  mcp: {
    examples: [
      `${H} mcp tools list --config gateway.json`,
      `${H} mcp tools approve --config gateway.json files__read_file`,
      `${H} mcp serve --config gateway.json`,
    ],
  },
  'mcp serve': {
    examples: [
      `${H} mcp serve --config gateway.json                 # stdio; what Claude Desktop spawns`,
      `${H} --data-dir ~/.helm mcp serve --config ~/.helm/gateway.json --principal alice`,
    ],
  },
  'mcp tools': { examples: [`${H} mcp tools list --config gateway.json`] },
  'mcp tools list': {
    examples: [
      `${H} mcp tools list --config gateway.json`,
      `${H} mcp tools list --config gateway.json --json`,
    ],
  },
  'mcp tools approve': {
    examples: [
      `${H} mcp tools approve --config gateway.json files__read_file files__write_file`,
      `${H} mcp tools approve --config gateway.json --all`,
    ],
  },
  'egress allow': {
    examples: [
      `${H} egress allow api.example.com                    # https, any port, up to 1 MiB`,
      `${H} egress allow 127.0.0.1 --protocol http --port 8080`,
      `${H} egress allow "*.internal.example" 10.0.0.0/8 --max-payload 65536`,
    ],
  },
  'egress list': { examples: [`${H} egress list`, `${H} egress list --json`] },
  'egress remove': { examples: [`${H} egress remove 3f2a9c0d1e4b5a67   # an id from egress list`] },
  delegate: { examples: [`${H} delegate list`, `${H} delegate revoke sha256:<hex> --reason "task done"`] },
  'delegate create': {
    examples: [
      `${H} delegate create --delegator local --delegate agent-7 --tool echo --ttl 15m --mfa-verified`,
      `HELM_CODE_VERIFIER=<verifier> ${H} run --tool echo --principal agent-7 --session <id> --args '{}'`,
    ],
  },
  'delegate list': { examples: [`${H} delegate list`, `${H} delegate list --all --json`] },
  'delegate revoke': { examples: [`${H} delegate revoke sha256:<hex> --reason "task done"`] },
  approvals: { examples: [`${H} approvals list`, `${H} approvals show sha256:<hex>`] },
  'approvals list': { examples: [`${H} approvals list`, `${H} approvals list --all --json`] },
  'approvals show': { examples: [`${H} approvals show sha256:<hex>`] },
  'approvals export': {
    examples: [`${H} approvals export sha256:<hex> -o challenge.json   # for an approver on another machine`],
  },
  approve: {
    examples: [
      `${H} approve sha256:<hex> --key .helm/keys/approver-1.json`,
      `${H} approve --sign-only challenge.json --key ~/approver.json --out approval.json   # no data directory`,
      `${H} approve --import approval.json`,
    ],
  },
  deny: { examples: [`${H} deny sha256:<hex> --key .helm/keys/approver-1.json --reason "not today"`] },
  budget: { examples: [`${H} budget show`, `${H} budget reset principal:alice --reason "new quarter"`] },
  'budget show': { examples: [`${H} budget show --principal alice`, `${H} budget show --json`] },
  'budget reset': {
    examples: [`${H} budget reset principal:alice --reason "new quarter"`, `${H} budget reset tenant:acme`],
  },
  'receipt-policy': { examples: [`${H} receipt-policy show`] },
  'receipt-policy show': {
    examples: [`${H} receipt-policy show`, `${H} receipt-policy show --json > rp.json`],
  },
  'receipt-policy sign': {
    examples: [`${H} receipt-policy sign rp.json`, `${H} receipt-policy sign rp.json --key ops`],
  },
  export: {
    examples: [
      `${H} export -o pack.tar`,
      `${H} export -o part.tar --from 10 --to 20`,
      `${H} export -o small.tar --condense`,
    ],
  },
  verify: {
    examples: [
      `${H} verify pack.tar                                  # inside the data directory: pinned to it`,
      `${H} verify pack.tar --trust-anchor sha256:<hex> --trust-head 12:sha256:<hex>`,
      `${H} verify pack.tar --trust-anchor sha256:<hex> --expect-head sha256:<hex> --json`,
    ],
  },
  replay: {
    examples: [
      `${H} replay pack.tar --trust-anchor sha256:<hex>`,
      `${H} replay --reexecute                               # re-run this data directory's calls`,
    ],
  },
};

/** The key of `command` in COMMAND_HELP: its path below the program, space-separated. */
export function helpKey(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function examplesText(help: CommandHelp): string {
  const lines = ['', 'Examples:', ...help.examples.map((e) => `  $ ${e}`)];
  if (help.notes) lines.push('', ...help.notes);
  return lines.join('\n');
}

/** Give every command of the tree its description and examples from COMMAND_HELP. */
export function applyHelp(program: Command): void {
  const visit = (command: Command): void => {
    const help = COMMAND_HELP[helpKey(command)];
    if (help) {
      if (!command.description() && help.summary) command.description(help.summary);
      command.addHelpText('after', examplesText(help));
    }
    for (const sub of command.commands) visit(sub);
  };
  visit(program);
}
