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
  doctor: { examples: [`${H} doctor`, `${H} doctor --json`] },
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
    summary: 'sign a P1 bundle with the policy key and install it as the active bundle',
    examples: [`${H} policy validate bundle.json && ${H} policy sign bundle.json`],
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
    ],
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
