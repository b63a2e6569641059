// Inclusion proofs per receipt (RFC 9162 §2.1.3): for the receipt chosen in the timeline, its log
// leaf (docs/spec/condensed-entry.md §Log leaves: JCS of lamport, entry hash, prev hash, tier) and,
// for each checkpoint whose tree covers it, the audit path from that leaf to the checkpoint's
// signed root, checked in this page by @helm/proofgraph's verifier (`verifyInclusion`, the TCB
// code). A condensed entry carries its proof (against the checkpoint it names); a full receipt has
// none in the pack, so its proof is built here from the pack's leaves (`inclusionProof`) — for an
// honest pack it leads to the signed root, and a receipt whose leaf fields changed (tier, Lamport,
// prev hash, or its signature, which the receipt hash is the SHA-256 of) reaches no signed root.
// The rest of a receipt's body is bound by its signature (the RECEIPT_CHAIN check), not by the
// leaf: the page says so next to the proof. The checkpoint's signature and the whole tree are the
// CHECKPOINTS check's; this view shows the one receipt's path, and its result, for a person.
import { fromHex, toHex } from '@helm/crypto';
import { inclusionProof, leafHashSource } from '@helm/proofgraph';
import { logLeafHash, verifyInclusion } from '@helm/proofgraph/verify';
import { clear, h } from './dom.js';

export interface HistoryLeaf {
  /** The RFC 9162 leaf hash (32 bytes). */
  readonly hash: Uint8Array;
  /** A condensed entry's own proof and the checkpoint it names. */
  readonly carried?: {
    readonly proof: string[];
    readonly checkpoint_hash: string;
    readonly tree_size: number;
  };
}

export interface CheckpointView {
  /** digest of the checkpoint envelope (what a condensed entry names). */
  readonly hash: string;
  readonly tree_size: number;
  readonly root_hash: string;
}

interface ChainItem {
  readonly lamport: number;
  readonly readable: boolean;
  readonly path: string;
  readonly leaf?: HistoryLeaf | undefined;
}

const digestBytes = (d: unknown): Uint8Array | undefined =>
  typeof d === 'string' && d.startsWith('sha256:') ? fromHex(d.slice('sha256:'.length)) : undefined;

/**
 * The log leaf of a full receipt's body (with its receipt hash as `entry_hash`) or of a condensed
 * entry; undefined when the fields do not make a leaf.
 */
export function historyLeaf(fields: Record<string, unknown>): HistoryLeaf | undefined {
  try {
    const hash = logLeafHash({
      entry_hash: String(fields.entry_hash),
      prev_hash: String(fields.prev_hash),
      lamport: Number(fields.lamport),
      risk_tier: fields.risk_tier as 'LOW',
    });
    if (fields.type !== 'helm.condensed.v1') return { hash };
    return {
      hash,
      carried: {
        proof: Array.isArray(fields.inclusion_proof) ? fields.inclusion_proof.map(String) : [],
        checkpoint_hash: String(fields.checkpoint_hash),
        tree_size: Number(fields.tree_size),
      },
    };
  } catch {
    return undefined;
  }
}

type ProofResult = { proof: string[]; source: string; ok: boolean; why: string };

function proveAgainst(item: ChainItem, chain: readonly ChainItem[], cp: CheckpointView): ProofResult {
  const index = item.lamport - 1;
  const root = digestBytes(cp.root_hash);
  if (!item.leaf) return { proof: [], source: '—', ok: false, why: 'the entry is unreadable: no leaf' };
  if (!root) return { proof: [], source: '—', ok: false, why: 'the checkpoint root is not a sha256 digest' };
  let proof: string[];
  let source: string;
  const carried = item.leaf.carried;
  if (carried && carried.checkpoint_hash === cp.hash && carried.tree_size === cp.tree_size) {
    proof = carried.proof;
    source = 'carried by the condensed entry';
  } else {
    // The first tree_size leaves of the history, in Lamport order, each from the pack.
    const byLamport = new Map(chain.map((c) => [c.lamport, c]));
    const leaves: Uint8Array[] = [];
    for (let l = 1; l <= cp.tree_size; l++) {
      const at = byLamport.get(l);
      if (!at?.leaf)
        return {
          proof: [],
          source: '—',
          ok: false,
          why: `receipt ${l} is missing or unreadable: no tree to prove from`,
        };
      leaves.push(at.leaf.hash);
    }
    proof = inclusionProof(leafHashSource(leaves), index, cp.tree_size).map((p) => `sha256:${toHex(p)}`);
    source = 'built in this page from the pack’s leaves';
  }
  const hashes = proof.map(digestBytes);
  if (hashes.some((x) => x === undefined))
    return { proof, source, ok: false, why: 'a proof hash is not a sha256 digest' };
  const check = verifyInclusion(index, cp.tree_size, item.leaf.hash, hashes as Uint8Array[], root);
  return check.ok
    ? { proof, source, ok: true, why: 'leads to the signed root' }
    : { proof, source, ok: false, why: `${check.code}: ${check.message}` };
}

/** Show `item`'s inclusion proof against every checkpoint that covers it, each verified. */
export function renderInclusion(
  out: HTMLElement,
  item: ChainItem,
  chain: readonly ChainItem[],
  checkpoints: readonly CheckpointView[],
  /**
   * Whether the verifier's CHECKPOINTS check passed: every checkpoint is signed by a key the pack's
   * trust registry gave the `checkpoint` role. Otherwise a checkpoint's root is just a number anyone
   * could compute over edited leaves, and no proof against it is shown as verifying.
   */
  checkpointsSigned: boolean,
): void {
  const covering = checkpoints.filter((c) => c.tree_size >= item.lamport);
  const header = h(
    'p',
    {},
    `Receipt L${item.lamport} (${item.path}): leaf `,
    h('code', { id: 'inclusion-leaf' }, item.leaf ? `sha256:${toHex(item.leaf.hash)}` : 'unreadable'),
    `, index ${item.lamport - 1}.`,
  );
  const binds = h(
    'p',
    { class: 'hint' },
    'The leaf commits to the receipt hash (SHA-256 of its signature), its prev hash, Lamport and risk tier; the rest of the receipt is bound by that signature (RECEIPT_CHAIN above).',
  );
  if (covering.length === 0) {
    clear(
      out,
      h('h3', {}, 'Inclusion proof'),
      header,
      binds,
      h('p', { class: 'hint', id: 'inclusion-none' }, 'No checkpoint in this pack covers this receipt.'),
    );
    return;
  }
  const rows = covering.map((cp) => {
    let r: ProofResult;
    try {
      r = proveAgainst(item, chain, cp);
      if (r.ok && !checkpointsSigned)
        r = {
          ...r,
          ok: false,
          why: 'the path leads to this root, but the checkpoint did not verify (CHECKPOINTS above): its root is not a signed root',
        };
    } catch (e) {
      // A checkpoint or leaf the verifier would refuse (e.g. a tree size that is not one): no proof.
      r = {
        proof: [],
        source: '—',
        ok: false,
        why: `no proof: ${e instanceof Error ? e.message : String(e)}`,
      };
    }
    return h(
      'div',
      {
        class: `proof ${r.ok ? 'pass' : 'failed'}`,
        'data-tree-size': String(cp.tree_size),
        'data-ok': String(r.ok),
      },
      h(
        'p',
        {},
        h('span', { class: `badge ${r.ok ? 'pass' : 'failed'}` }, r.ok ? '✓ VERIFIES' : '✗ DOES NOT VERIFY'),
        ` against checkpoint tree size ${cp.tree_size}, root `,
        h('code', {}, cp.root_hash),
        ` — ${r.why}`,
      ),
      h('p', { class: 'hint' }, `Audit path (${r.proof.length} hashes, leaf to root), ${r.source}:`),
      h(
        'ol',
        { class: 'audit-path' },
        r.proof.map((p) => h('li', {}, h('code', {}, p))),
      ),
    );
  });
  clear(out, h('h3', {}, 'Inclusion proof'), header, binds, ...rows);
}
