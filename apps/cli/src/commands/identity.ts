// `helmts identity add|list|remove`: the credential → principal bindings of Gate 2. Each edit is a
// signed governance event (identity.add / identity.remove, role `policy`) appended without opening
// the governed runtime; a running runtime applies it before its next decision and receipts it
// (`helm.admin.identity.add|remove`). `list` shows config.json's bindings with the edits applied.
import {
  type DataDir,
  type GovernanceEventRecord,
  identityAdd,
  identityBindingFrom,
  identityList,
  identityRemove,
} from '@helm/runtime';
import type { TrustRegistry } from '@helm/trust';
import type { Command } from 'commander';
import { type CommandResult, ok } from '../errors.js';
import { adminSigner, appendedLines, collect, type Wrap } from './admin.js';
import { withGovernanceDir } from './data.js';

export interface IdentityAddOpts {
  principal: string;
  tenant?: string[];
  noTenant?: boolean;
  key?: string;
}

export function identityAddCommand(
  data: DataDir,
  credential: string,
  opts: IdentityAddOpts,
  at: number = Date.now(),
): CommandResult {
  data.requireInitialized();
  const binding = identityBindingFrom({
    credential,
    principal: opts.principal,
    ...(opts.tenant === undefined ? {} : { tenants: opts.tenant }),
    ...(opts.noTenant ? { noTenant: true } : {}),
  });
  const signer = adminSigner(data, opts.key);
  const event = identityAdd(data, binding, signer.signer, at);
  return ok({ binding, event: eventJson(event) }, [
    `Bound credential ${binding.credential_id} to principal ${binding.principal}${
      binding.tenants === undefined
        ? ' (any tenant the caller names)'
        : ` for tenants ${binding.tenants.map((t) => (t === null ? '(none)' : t)).join(', ')}`
    }.`,
    ...appendedLines(event, signer.name),
  ]);
}

export function identityRemoveCommand(
  data: DataDir,
  credential: string,
  opts: { key?: string },
  at: number = Date.now(),
): CommandResult {
  data.requireInitialized();
  const signer = adminSigner(data, opts.key);
  const event = identityRemove(data, credential, signer.signer, at);
  return ok({ credential_id: credential, event: eventJson(event) }, [
    `Unbound credential ${credential}: calls presenting it are denied GATE_IDENTITY_ISOLATION.`,
    ...appendedLines(event, signer.name),
  ]);
}

export function identityListCommand(data: DataDir): CommandResult {
  data.requireInitialized();
  const { bindings, pending } = identityList(data);
  return ok({ bindings, pending }, [
    bindings.length === 0
      ? 'No credential is bound: every call is denied GATE_IDENTITY_ISOLATION. Bind one: helmts identity add <credential> --principal <p>'
      : `Identity bindings (credential → principal) of ${data.dir}:`,
    ...bindings.map(
      (b) =>
        `  ${b.credential_id.padEnd(20)} → ${b.principal}${
          b.tenants === undefined ? '' : `  tenants: ${b.tenants.map((t) => t ?? '(none)').join(', ')}`
        }  [${b.source === 'config.json' ? 'config.json' : `event ${b.source.event}`}${
          b.status === 'pending' ? ', pending' : ''
        }]`,
    ),
    ...(pending.length === 0
      ? []
      : [
          `${pending.length} edit(s) not yet applied by a runtime (shown as in force; the next decision or open applies them).`,
        ]),
  ]);
}

/**
 * The credential `helmts run` presents for a principal when no --credential is given: the first
 * binding in force for it (config.json plus the edits), if any. None: the call goes without one
 * and the identity gate denies it (GATE_IDENTITY_ISOLATION, receipted).
 */
export function credentialOf(data: DataDir, principal: string, registry?: TrustRegistry): string | undefined {
  return identityList(data, registry).bindings.find((b) => b.principal === principal)?.credential_id;
}

export const eventJson = (e: GovernanceEventRecord) => ({
  seq: e.seq,
  action: e.action,
  digest: e.digest,
  signer: e.signer,
  signed_at_ms: e.signed_at_ms,
});

export function registerIdentityCommands(program: Command, wrap: Wrap): void {
  const json = ['--json', 'machine-readable output'] as const;
  const key = [
    '--key <name>',
    'key file (keys/<name>.json) that signs the edit; it must hold role policy (default: policy)',
  ] as const;
  const identity = program
    .command('identity')
    .description('bind credentials to principals (Gate 2): add, list, remove — signed, receipted edits');
  identity
    .command('add <credential>')
    .description('bind a credential to a principal')
    .requiredOption('--principal <id>', 'the principal the credential authenticates')
    .option(
      '--tenant <id>',
      'bind the credential to this tenant (repeatable); without it, any tenant',
      collect,
    )
    .option('--allow-no-tenant', 'with --tenant: also allow calls that name no tenant')
    .option(...key)
    .option(...json)
    .action(
      wrap((credential: string, o: IdentityAddOpts & { allowNoTenant?: boolean }, cmd: Command) =>
        withGovernanceDir(cmd, (d) =>
          identityAddCommand(d, credential, { ...o, ...(o.allowNoTenant ? { noTenant: true } : {}) }),
        ),
      ),
    );
  identity
    .command('list')
    .description('the bindings in force: config.json plus the applied edits')
    .option(...json)
    .action(wrap((_o: unknown, cmd: Command) => withGovernanceDir(cmd, (d) => identityListCommand(d))));
  identity
    .command('remove <credential>')
    .description('unbind a credential (its calls are denied from the next decision on)')
    .option(...key)
    .option(...json)
    .action(
      wrap((credential: string, o: { key?: string }, cmd: Command) =>
        withGovernanceDir(cmd, (d) => identityRemoveCommand(d, credential, o)),
      ),
    );
}
