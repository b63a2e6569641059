// `helmts egress allow|list|remove`: the Gate 3 allowlist for tools that send data out (HTTP tools).
// Each edit is a signed governance event (egress.allow / egress.remove, role `policy`) appended
// without opening the governed runtime; a running runtime applies it before its next decision and
// receipts it (`helm.admin.egress.allow|remove`).
import {
  type DataDir,
  egressAllow,
  egressList,
  egressRemove,
  egressRuleFrom,
  egressRuleId,
} from '@helm/runtime';
import type { Command } from 'commander';
import { CliError, type CommandResult, ok } from '../errors.js';
import { adminSigner, appendedLines, collect, type Wrap } from './admin.js';
import { withGovernanceDir } from './data.js';
import { eventJson } from './identity.js';

export interface EgressAllowOpts {
  protocol?: string[];
  port?: string[];
  maxPayload?: string;
  key?: string;
}

function integer(text: string, option: string): number {
  if (!/^[0-9]{1,16}$/.test(text))
    throw new CliError('USAGE', `${option} ${text} is not a non-negative integer`);
  return Number(text);
}

export function egressAllowCommand(
  data: DataDir,
  targets: readonly string[],
  opts: EgressAllowOpts,
  at: number = Date.now(),
): CommandResult {
  data.requireInitialized();
  const rule = egressRuleFrom({
    targets,
    ...(opts.protocol === undefined ? {} : { protocols: opts.protocol }),
    ...(opts.port === undefined ? {} : { ports: opts.port.map((p) => integer(p, '--port')) }),
    ...(opts.maxPayload === undefined ? {} : { maxPayloadBytes: integer(opts.maxPayload, '--max-payload') }),
  });
  const signer = adminSigner(data, opts.key);
  const event = egressAllow(data, rule, signer.signer, at);
  const id = egressRuleId(rule);
  return ok({ rule_id: id, rule, event: eventJson(event) }, [
    `Allowed ${describe(rule)} (rule ${id}).`,
    ...appendedLines(event, signer.name),
  ]);
}

export function egressRemoveCommand(
  data: DataDir,
  ruleId: string,
  opts: { key?: string },
  at: number = Date.now(),
): CommandResult {
  data.requireInitialized();
  if (!/^[0-9a-f]{16}$/.test(ruleId))
    throw new CliError(
      'USAGE',
      `${ruleId} is not a rule id`,
      'rule ids are 16 hex digits: `helmts egress list` shows them',
    );
  const signer = adminSigner(data, opts.key);
  const event = egressRemove(data, ruleId, signer.signer, at);
  return ok({ rule_id: ruleId, event: eventJson(event) }, [
    `Removed egress rule ${ruleId}.`,
    ...appendedLines(event, signer.name),
  ]);
}

function describe(rule: {
  hosts?: readonly string[];
  cidrs?: readonly string[];
  protocols: readonly string[];
  ports?: readonly number[];
  max_payload_bytes: number;
}): string {
  const where = [...(rule.hosts ?? []), ...(rule.cidrs ?? [])].join(', ');
  return `${where} over ${rule.protocols.join('/')}${rule.ports ? ` ports ${rule.ports.join(',')}` : ' (any port)'}, up to ${rule.max_payload_bytes} bytes`;
}

export function egressListCommand(data: DataDir): CommandResult {
  data.requireInitialized();
  const { rules, pending } = egressList(data);
  return ok({ rules, pending }, [
    rules.length === 0
      ? 'No egress is allowed: calls of egress tools (net.egress, message.send, publish, data.export) are denied GATE_EGRESS_DENIED. Allow a host: helmts egress allow <host>'
      : `Egress allowlist of ${data.dir} (one rule must allow host, protocol, port and size together):`,
    ...rules.map(
      (r) =>
        `  ${r.id}  ${describe(r.rule)}  [${r.source === 'config.json' ? 'config.json' : `event ${r.source.event}`}${
          r.status === 'pending' ? ', pending' : ''
        }]`,
    ),
    ...(pending.length === 0
      ? []
      : [
          `${pending.length} edit(s) not yet applied by a runtime (shown as in force; the next decision or open applies them).`,
        ]),
  ]);
}

export function registerEgressCommands(program: Command, wrap: Wrap): void {
  const json = ['--json', 'machine-readable output'] as const;
  const key = [
    '--key <name>',
    'key file (keys/<name>.json) that signs the edit; it must hold role policy (default: policy)',
  ] as const;
  const egress = program
    .command('egress')
    .description('the egress allowlist (Gate 3): allow, list, remove — signed, receipted edits');
  egress
    .command('allow <target...>')
    .description(
      'allow hosts (api.example.com, *.example.com), IP addresses (127.0.0.1, ::1) or CIDR ranges (10.0.0.0/8), as one rule',
    )
    .option('--protocol <name>', 'allowed protocol (repeatable; default https)', collect)
    .option('--port <n>', 'allowed port (repeatable; default any)', collect)
    .option('--max-payload <bytes>', 'largest request payload (default 1048576)')
    .option(...key)
    .option(...json)
    .action(
      wrap((targets: string[], o: EgressAllowOpts, cmd: Command) =>
        withGovernanceDir(cmd, (d) => egressAllowCommand(d, targets, o)),
      ),
    );
  egress
    .command('list')
    .description('the rules in force: config.json plus the applied edits, with their ids')
    .option(...json)
    .action(wrap((_o: unknown, cmd: Command) => withGovernanceDir(cmd, (d) => egressListCommand(d))));
  egress
    .command('remove <rule-id>')
    .description('remove a rule by its id (from `helmts egress list`)')
    .option(...key)
    .option(...json)
    .action(
      wrap((ruleId: string, o: { key?: string }, cmd: Command) =>
        withGovernanceDir(cmd, (d) => egressRemoveCommand(d, ruleId, o)),
      ),
    );
}
