// `helmts receipt-policy show|sign` (docs/cli.md §Receipt policies): the receipt policies per
// effect class in force, and installing a new set signed by the policy key. Neither opens the
// governed runtime; a runtime reads the set when it opens.
import {
  type DataDir,
  loadReceiptPolicies,
  missingReceiptPolicy,
  parseReceiptPolicies,
  RuntimeReceiptPolicies,
  readJsonFile,
  writeReceiptPolicies,
} from '@helm/runtime';
import type { Command } from 'commander';
import { CliError, type CommandResult, ok } from '../errors.js';
import { withDataDir } from './data.js';

type Wrap = <A extends unknown[]>(
  handler: (...args: A) => Promise<CommandResult> | CommandResult,
) => (...args: A) => Promise<void>;

// The shared helper (data.ts): a named database is refused, never a fall-back to helm.db.

export function receiptPolicyShow(data: DataDir): CommandResult {
  data.requireInitialized();
  const { set, source, signedBy } = loadReceiptPolicies(data, data.registry());
  const doc = set.document;
  return ok({ source, signed_by: signedBy, document: doc }, [
    `Receipt policies in force (${source === 'file' ? `policy/receipt-policies.signed.json, signed by ${signedBy}` : 'built-in defaults: no policy/receipt-policies.signed.json'}):`,
    `  ${'effect class'.padEnd(20)} ${'tier'.padEnd(6)} ${'own key'.padEnd(8)} ${'approvals'.padEnd(9)} idempotency window`,
    ...doc.policies.map(
      (p) =>
        `  ${p.effect_class.padEnd(20)} ${p.risk_tier.padEnd(6)} ${(p.require_idempotency_key ? 'required' : '-').padEnd(8)} ${String(p.min_approvals).padEnd(9)} ${set.windowFor(p.effect_class)} ms${p.required_evidence.length > 0 ? `  evidence: ${p.required_evidence.join(', ')}` : ''}`,
    ),
    'Change them: helmts receipt-policy show --json > rp.json; edit .document; helmts receipt-policy sign rp.json',
  ]);
}

export function receiptPolicySign(data: DataDir, path: string, key = 'policy'): CommandResult {
  data.requireInitialized();
  const file = readJsonFile(path) as Record<string, unknown>;
  // `show --json` output is accepted as is: its `document`.
  const doc = parseReceiptPolicies(
    file.type === undefined && typeof file.document === 'object' ? file.document : file,
    path,
  );
  // A set that would leave a registered tool without a policy would refuse the next open.
  const set = new RuntimeReceiptPolicies(doc);
  for (const descriptor of data.toolDescriptors()) {
    const missing = missingReceiptPolicy(descriptor as never, set);
    if (missing)
      throw new CliError(
        'RECEIPT_POLICY_MISSING',
        `${path} has no policy for effect class ${String(descriptor.effect_type)} of the registered tool ${String(descriptor.name)}; nothing was installed`,
        `add a policy for ${String(descriptor.effect_type)}, or remove the tool first`,
      );
  }
  const signed = writeReceiptPolicies(data, doc, data.signer(key, 'policy'));
  return ok(
    { path, signed_by: signed.signatures[0]?.keyid, classes: doc.policies.map((p) => p.effect_class) },
    [
      `Signed ${path} with the policy key ${key} and installed it as policy/receipt-policies.signed.json (${doc.policies.length} effect classes).`,
      'It applies from the next open of the governed runtime (the next `helmts run`; restart a running server).',
    ],
  );
}

export function registerReceiptPolicyCommands(program: Command, wrap: Wrap): void {
  const json = ['--json', 'machine-readable output'] as const;
  const rp = program
    .command('receipt-policy')
    .description(
      'receipt policies per effect class: retention tier, own idempotency key, idempotency window',
    );
  rp.command('show')
    .description('the receipt policies in force (the signed file, or the built-in defaults)')
    .option(...json)
    .action(wrap((_o: unknown, cmd: Command) => withDataDir(cmd, (d) => receiptPolicyShow(d))));
  rp.command('sign <file>')
    .description('validate, sign with a policy key and install a receipt-policies document')
    .option('--key <name>', 'policy key file to sign with (default: policy)')
    .option(...json)
    .action(
      wrap((file: string, o: { key?: string }, cmd: Command) =>
        withDataDir(cmd, (d) => receiptPolicySign(d, file, o.key)),
      ),
    );
}
