// The transparency surface of `helmts serve` in the C2SP formats (normative: docs/spec/tlog.md):
//   - signed notes (c2sp.org/signed-note): Ed25519 type 0x01 and timestamped cosignatures 0x04;
//   - checkpoints (c2sp.org/tlog-checkpoint): origin, tree size, base64 root, over the chain's
//     receipt log (the RFC 9162 tree of helm.log_leaf.v1 leaves the condensed export uses);
//   - the witness side of c2sp.org/tlog-witness add-checkpoint: verify the log signature and the
//     consistency proof against the last cosigned size, cosign, refuse rollback (409) and fork
//     (409 at equal size / 422 for a proof that does not verify).
// Written from the specifications; no code taken from any implementation.
import { createHash } from 'node:crypto';
import { createSigner, type Signer, verifyEd25519 } from '@helm/crypto';
import { verifyConsistency, verifyInclusion } from '@helm/proofgraph/verify';

const EM_DASH = '\u2014';
export const SIG_ED25519 = 0x01;
export const SIG_COSIGNATURE_V1 = 0x04;
/** The most proof lines an add-checkpoint request may carry (tlog-witness). */
export const MAX_PROOF_LINES = 63;
/** The most signature lines a note may carry here (signed-note asks for at least 16). */
export const MAX_NOTE_SIGNATURES = 64;

export class TlogError extends Error {
  readonly code: 'NOTE_MALFORMED' | 'KEY_MALFORMED' | 'CHECKPOINT_MALFORMED' | 'SIGNATURE_INVALID';
  constructor(code: TlogError['code'], message: string) {
    super(message);
    this.name = 'TlogError';
    this.code = code;
  }
}

const NAME = /^[^\s+\u2014]+$/u;

/** SHA-256(name || 0x0A || type || public key)[:4] as a big-endian uint32. */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): number {
  const h = createHash('sha256')
    .update(Buffer.from(`${name}\n`, 'utf8'))
    .update(Uint8Array.of(type))
    .update(publicKey)
    .digest();
  return h.readUInt32BE(0);
}

/** A verifier key: a name, a signature type and a 32-byte Ed25519 public key. */
export interface NoteVerifier {
  readonly name: string;
  readonly type: number;
  readonly publicKey: Uint8Array;
  readonly keyId: number;
}

/** `<name>+<8 hex key id>+<base64(type || public key)>` (signed-note vkey encoding). */
export function formatVkey(name: string, type: number, publicKey: Uint8Array): string {
  const id = noteKeyId(name, type, publicKey).toString(16).padStart(8, '0');
  return `${name}+${id}+${Buffer.concat([Uint8Array.of(type), publicKey]).toString('base64')}`;
}

export function parseVkey(text: string): NoteVerifier {
  // The base64 key may itself contain '+': split at the first two only.
  const m = /^([^+]+)\+([^+]+)\+(.+)$/s.exec(text.trim());
  if (!m) throw new TlogError('KEY_MALFORMED', 'a verifier key is <name>+<hex id>+<base64 key>');
  const [, name, hex, b64] = m as unknown as [string, string, string, string];
  if (!NAME.test(name) || !/^[0-9a-f]{8}$/.test(hex))
    throw new TlogError('KEY_MALFORMED', 'a verifier key is <name>+<hex id>+<base64 key>');
  const raw = Buffer.from(b64, 'base64');
  if (
    raw.toString('base64') !== b64 ||
    raw.length !== 33 ||
    (raw[0] !== SIG_ED25519 && raw[0] !== SIG_COSIGNATURE_V1)
  )
    throw new TlogError('KEY_MALFORMED', 'only Ed25519 (0x01) and cosignature/v1 (0x04) keys are supported');
  const type = raw[0] as number;
  const publicKey = new Uint8Array(raw.subarray(1));
  const keyId = noteKeyId(name, type, publicKey);
  if (keyId !== Number.parseInt(hex, 16))
    throw new TlogError('KEY_MALFORMED', 'the key id does not match the key');
  return { name, type, publicKey, keyId };
}

/** A note signer: the Ed25519 seed behind a name, as a log (0x01) or a cosigner (0x04). */
export interface NoteSigner {
  readonly name: string;
  readonly type: number;
  readonly signer: Signer;
  readonly vkey: string;
}

export function noteSigner(name: string, seed: Uint8Array, type: number): NoteSigner {
  if (!NAME.test(name)) throw new TlogError('KEY_MALFORMED', `key names have no spaces or '+': ${name}`);
  const signer = createSigner(seed);
  return { name, type, signer, vkey: formatVkey(name, type, signer.publicKey) };
}

export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** The signature bytes after the 4-byte key id. */
  readonly bytes: Uint8Array;
  readonly line: string;
}

export interface ParsedNote {
  /** The note text, final newline included. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** Split a signed note into its text and signature lines (no verification). */
export function parseNote(note: string): ParsedNote {
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) throw new TlogError('NOTE_MALFORMED', 'control characters');
  const split = note.lastIndexOf('\n\n');
  if (split < 0 || !note.endsWith('\n'))
    throw new TlogError('NOTE_MALFORMED', 'no blank line before signatures');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) throw new TlogError('NOTE_MALFORMED', 'too many signatures');
  const signatures = lines.map((line) => {
    const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/u.exec(line);
    if (!m) throw new TlogError('NOTE_MALFORMED', 'a signature line is "— <name> <base64>"');
    const raw = Buffer.from(m[2] as string, 'base64');
    if (raw.length < 5 || raw.toString('base64') !== m[2])
      throw new TlogError('NOTE_MALFORMED', 'a signature is base64(key id || signature)');
    return { name: m[1] as string, keyId: raw.readUInt32BE(0), bytes: new Uint8Array(raw.subarray(4)), line };
  });
  return { text, signatures };
}

function signatureLine(s: NoteSigner, bytes: Uint8Array): string {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(noteKeyId(s.name, s.type, s.signer.publicKey));
  return `${EM_DASH} ${s.name} ${Buffer.concat([id, bytes]).toString('base64')}\n`;
}

/** The cosignature/v1 signed message for `text` at `timestamp` (seconds). */
function cosignedMessage(text: string, timestamp: number): Uint8Array {
  return new Uint8Array(Buffer.from(`cosignature/v1\ntime ${timestamp}\n${text}`, 'utf8'));
}

/** Sign note text with an Ed25519 (0x01) log key: the complete signed note. */
export function signNote(text: string, signer: NoteSigner): string {
  if (signer.type !== SIG_ED25519)
    throw new TlogError('KEY_MALFORMED', 'a log signs with an Ed25519 (0x01) key');
  return `${text}\n${signatureLine(signer, signer.signer.sign(new Uint8Array(Buffer.from(text, 'utf8'))))}`;
}

/** A cosignature/v1 line over note text at `timestamp` (POSIX seconds). */
export function cosign(text: string, signer: NoteSigner, timestamp: number): string {
  if (signer.type !== SIG_COSIGNATURE_V1)
    throw new TlogError('KEY_MALFORMED', 'a witness cosigns with a 0x04 key');
  const ts = Buffer.alloc(8);
  ts.writeBigUInt64BE(BigInt(timestamp));
  const sig = signer.signer.sign(cosignedMessage(text, timestamp));
  return signatureLine(signer, new Uint8Array(Buffer.concat([ts, sig])));
}

/**
 * The keys among `verifiers` whose signatures on `note` verify. A signature by a known key that
 * fails throws SIGNATURE_INVALID (the whole note is refused); unknown keys are ignored.
 */
export function verifyNote(
  note: ParsedNote,
  verifiers: readonly NoteVerifier[],
): { verifier: NoteVerifier; timestamp?: number }[] {
  const out: { verifier: NoteVerifier; timestamp?: number }[] = [];
  const seen = new Set<NoteVerifier>();
  for (const sig of note.signatures) {
    const v = verifiers.find((k) => k.name === sig.name && k.keyId === sig.keyId);
    if (!v || seen.has(v)) continue;
    let ok: boolean;
    let timestamp: number | undefined;
    if (v.type === SIG_COSIGNATURE_V1) {
      if (sig.bytes.length !== 72) throw new TlogError('SIGNATURE_INVALID', `bad cosignature by ${v.name}`);
      const big = Buffer.from(sig.bytes.subarray(0, 8)).readBigUInt64BE(0);
      if (big > BigInt(Number.MAX_SAFE_INTEGER))
        throw new TlogError('SIGNATURE_INVALID', 'timestamp out of range');
      timestamp = Number(big);
      ok = verifyEd25519(v.publicKey, cosignedMessage(note.text, timestamp), sig.bytes.subarray(8)).ok;
    } else {
      ok = verifyEd25519(v.publicKey, new Uint8Array(Buffer.from(note.text, 'utf8')), sig.bytes).ok;
    }
    if (!ok) throw new TlogError('SIGNATURE_INVALID', `the signature by ${v.name} does not verify`);
    seen.add(v);
    out.push({ verifier: v, ...(timestamp === undefined ? {} : { timestamp }) });
  }
  return out;
}

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
  readonly extensions: readonly string[];
}

/** The checkpoint body: origin, size, base64 root, extension lines (each newline-terminated). */
export function formatCheckpoint(c: Checkpoint): string {
  return [c.origin, String(c.size), Buffer.from(c.root).toString('base64'), ...c.extensions]
    .map((l) => `${l}\n`)
    .join('');
}

export function parseCheckpoint(text: string): Checkpoint {
  const lines = text.split('\n');
  if (lines.pop() !== '' || lines.length < 3)
    throw new TlogError('CHECKPOINT_MALFORMED', 'a checkpoint has 3+ lines');
  const [origin, size, root, ...extensions] = lines as [string, string, string, ...string[]];
  if (origin.length === 0 || !/^(0|[1-9][0-9]{0,15})$/.test(size) || !Number.isSafeInteger(Number(size)))
    throw new TlogError('CHECKPOINT_MALFORMED', 'bad origin or tree size line');
  const raw = Buffer.from(root, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== root)
    throw new TlogError('CHECKPOINT_MALFORMED', 'the root hash line is base64 of 32 bytes');
  if (extensions.some((e) => e.length === 0))
    throw new TlogError('CHECKPOINT_MALFORMED', 'empty extension line');
  return { origin, size: Number(size), root: new Uint8Array(raw), extensions };
}

/** What a witness keeps per log: the latest checkpoint it cosigned. */
export interface WitnessState {
  size: number;
  root: string;
}

/** The outcome of add-checkpoint, as HTTP status, content type and body (tlog-witness). */
export interface WitnessAnswer {
  readonly status: 200 | 400 | 403 | 404 | 409 | 422;
  readonly contentType: string;
  readonly body: string;
  /** The state to persist under `origin` (only on 200). */
  readonly next?: WitnessState;
  readonly origin?: string;
}

const plain = (status: WitnessAnswer['status'], body: string): WitnessAnswer => ({
  status,
  contentType: 'text/plain; charset=utf-8',
  body: `${body}\n`,
});

/**
 * Decide one add-checkpoint request body against the stored state (pure: the caller holds the
 * per-log lock, persists `next` and only then answers). `logs`: origin → trusted log keys.
 */
export function addCheckpoint(
  body: string,
  logs: ReadonlyMap<string, readonly NoteVerifier[]>,
  state: (origin: string) => WitnessState | undefined,
  witness: NoteSigner,
  nowSeconds: number,
): WitnessAnswer {
  const lines = body.split('\n');
  const old = /^old (0|[1-9][0-9]{0,15})$/.exec(lines[0] ?? '');
  if (!old) return plain(400, 'the first line is "old <size>"');
  const oldSize = Number(old[1]);
  const proof: Uint8Array[] = [];
  let i = 1;
  for (; i < lines.length && lines[i] !== ''; i++) {
    if (proof.length === MAX_PROOF_LINES) return plain(400, 'too many proof lines');
    const raw = Buffer.from(lines[i] as string, 'base64');
    if (raw.length !== 32 || raw.toString('base64') !== lines[i])
      return plain(400, 'a proof line is one base64 hash');
    proof.push(new Uint8Array(raw));
  }
  if (i >= lines.length) return plain(400, 'no blank line before the checkpoint');
  let note: ParsedNote;
  let cp: Checkpoint;
  try {
    note = parseNote(lines.slice(i + 1).join('\n'));
    cp = parseCheckpoint(note.text);
  } catch (error) {
    return plain(400, (error as Error).message);
  }
  const keys = logs.get(cp.origin);
  if (!keys) return plain(404, `unknown log ${cp.origin}`);
  try {
    if (verifyNote(note, keys).length === 0) return plain(403, 'no signature by a trusted log key');
  } catch {
    return plain(403, 'a log signature does not verify');
  }
  if (oldSize > cp.size) return plain(400, 'old size exceeds the checkpoint size');
  const known = state(cp.origin) ?? { size: 0, root: '' };
  const root = Buffer.from(cp.root).toString('base64');
  if (oldSize !== known.size)
    return { status: 409, contentType: 'text/x.tlog.size', body: `${known.size}\n` };
  if (oldSize === 0) {
    if (proof.length !== 0) return plain(422, 'the proof from size 0 must be empty');
  } else if (oldSize === cp.size) {
    if (root !== known.root) return plain(409, 'same size, different root: a fork');
    if (proof.length !== 0) return plain(422, 'the proof between equal sizes must be empty');
  } else {
    const check = verifyConsistency(oldSize, cp.size, Buffer.from(known.root, 'base64'), cp.root, proof);
    if (!check.ok) return plain(422, `the consistency proof does not verify (${check.code})`);
  }
  return {
    status: 200,
    contentType: 'text/plain; charset=utf-8',
    body: cosign(note.text, witness, nowSeconds),
    next: { size: cp.size, root },
    origin: cp.origin,
  };
}

/** RFC 9162 inclusion check of a leaf hash against a checkpoint (for clients and tests). */
export function checkInclusion(
  index: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  cp: Checkpoint,
): boolean {
  return verifyInclusion(index, cp.size, leafHash, proof, cp.root).ok;
}

/** RFC 9162 consistency check between two checkpoints of one log. */
export function checkConsistency(a: Checkpoint, b: Checkpoint, proof: readonly Uint8Array[]): boolean {
  if (a.origin !== b.origin || a.size > b.size) return false;
  // The empty tree is a prefix of every tree: its proof is empty.
  if (a.size === 0) return proof.length === 0;
  if (a.size === b.size) return Buffer.from(a.root).equals(Buffer.from(b.root)) && proof.length === 0;
  return verifyConsistency(a.size, b.size, a.root, b.root, proof).ok;
}
