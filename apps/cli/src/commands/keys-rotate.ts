// `helmts keys rotate <name>` and `helmts keys rotate root` (docs/cli.md §Key rotation): the
// presentation of @helm/runtime's rotateKey / planRootRotation / rotateRootKeys.
import {
  type DataDir,
  planRootRotation,
  RuntimeError,
  redactDatabaseUrl,
  rotateKey,
  rotateKeyOnDatabase,
  rotateRootKeys,
} from '@helm/runtime';
import { type CommandResult, ok } from '../errors.js';

export function followedLines(name: string, chain: readonly string[]): string[] {
  return chain.length > 1
    ? [
        `keys/${name}.json holds ${chain[0]}, which the registry rotated to ${chain.slice(1).join(' → ')} (not through this file): acting on ${chain[chain.length - 1]}.`,
      ]
    : [];
}

/** `helmts keys rotate <name>` (not root): a root-signed rotation (rotateKey). */
export function keysRotate(data: DataDir, name: string, rootKeyDir?: string): CommandResult {
  return rotated(name, rotateKey(data, name, rootKeyDir));
}

/**
 * `helmts keys rotate <name> --database-url`: rotated here and published to the shared database
 * in one command (rotateKeyOnDatabase); every node sees it before its next decision.
 */
export async function keysRotateOnDatabase(
  data: DataDir,
  name: string,
  url: string,
  opts: RotateRootOpts = {},
): Promise<CommandResult> {
  if (name === 'root' || opts.confirm)
    throw new RuntimeError(
      'DATABASE_RUNTIME_UNSUPPORTED',
      'the root key ceremony does not run against a shared database: nothing was changed',
      'perform it in the publishing directory without --database-url, then `helmts db publish-trust`',
    );
  const r = await rotateKeyOnDatabase(data, name, { url }, opts.rootKeyDir);
  const result = rotated(name, r);
  return {
    ...result,
    json: { ...result.json, database: redactDatabaseUrl(url), published: r.written },
    human: [
      ...result.human,
      `Published to ${redactDatabaseUrl(url)}: every node decides under the rotation from its next decision (a running node refuses TRUST_REGISTRY_STALE until it is restarted).`,
    ],
  };
}

function rotated(name: string, r: ReturnType<typeof rotateKey>): CommandResult {
  return ok({ ...r, roles: [...r.roles], followed: [...r.followed], resigned: [...r.resigned] }, [
    ...followedLines(name, r.followed),
    `Rotated ${name} (${r.roles.join(',') || 'no roles'}): ${r.old_keyid} → ${r.new_keyid} at trust seq ${r.trust_seq}.`,
    ...r.resigned.map(
      (f) => `Re-signed ${f} with the new key (same content; the old key's signature is no longer accepted).`,
    ),
    'Receipts signed earlier still verify: each names the trust seq it was signed under, before the rotation.',
    `Verifiers refuse packs that hide this rotation behind an older registry copy when they pin freshness: --trust-head ${r.trust_seq}:${r.trust_head}`,
  ]);
}

export interface RotateRootOpts {
  rootKeyDir?: string;
  confirm?: boolean;
}

const CEREMONY = (dir: string, threshold: number, found: number, total: number): string[] => [
  'Root key rotation ceremony (docs/cli.md §Root keys):',
  `  1. Bring at least ${threshold} of the ${total} root key(s) online in one directory (found ${found} in ${dir}).`,
  '  2. `helmts keys rotate root --root-key-dir <dir> --confirm` replaces every root key found there: for each, a',
  `     key_rotate event signed by ${threshold} current root key(s) and by the new key; the new seed is written`,
  '     to <dir>/<name>.next.json first, then renamed over <name>.json (after a crash, a .next.json file',
  '     holding a valid root key is picked up as is: rename it).',
  '  3. The trust anchor (genesis digest) does not change: verifiers keep their --trust-anchor. Receipts and',
  '     packs signed before stay valid. Record the new head (`helmts trust head`) out of band and have',
  '     verifiers pin it with --trust-head: an old root seed can still sign a fork of the registry as it',
  '     was before this rotation, which only a head pin refuses.',
  '  4. Move the new root key files offline again, and destroy every copy of the old seeds.',
  'Root keys not in that directory keep holding root; rotate them in a later ceremony with their custodians.',
];

/** `helmts keys rotate root`: explain the ceremony; with `confirm`, perform it. */
export function keysRotateRoot(data: DataDir, opts: RotateRootOpts = {}): CommandResult {
  if (!opts.confirm) {
    const plan = planRootRotation(data, opts.rootKeyDir);
    const next = `helmts keys rotate root${opts.rootKeyDir === undefined ? '' : ` --root-key-dir ${plan.dir}`} --confirm`;
    return ok(
      {
        performed: false,
        root_key_dir: plan.dir,
        root_threshold: plan.threshold,
        root_keys: plan.total,
        found: [...plan.found],
        next,
      },
      [
        ...CEREMONY(plan.dir, plan.threshold, plan.found.length, plan.total),
        `Nothing was changed. To perform it: ${next}`,
      ],
    );
  }
  const { dir, rotated, trust_seq, trust_head } = rotateRootKeys(data, opts.rootKeyDir);
  return ok({ performed: true, root_key_dir: dir, rotated: [...rotated], trust_seq, trust_head }, [
    ...rotated.map((r) => `Rotated root key ${r.name}: ${r.old_keyid} → ${r.new_keyid}.`),
    `Trust registry at seq ${trust_seq}, head ${trust_head}; the trust anchor is unchanged.`,
    `Record and pin the new head: --trust-head ${trust_seq}:${trust_head}`,
    `Move the new key files in ${dir} offline again and destroy every copy of the old root seeds.`,
  ]);
}

/** `helmts keys rotate <name>`: the root ceremony for `root`, a root-signed rotation otherwise. */
export function keysRotateCommand(data: DataDir, name: string, opts: RotateRootOpts = {}): CommandResult {
  if (name === 'root') return keysRotateRoot(data, opts);
  if (opts.confirm)
    throw new RuntimeError('USAGE', '--confirm belongs to `keys rotate root`', `helmts keys rotate ${name}`);
  return keysRotate(data, name, opts.rootKeyDir);
}
