// Fast path of the content-addressed signing rule (docs/spec/envelope.md §4; measured in
// docs/PERFORMANCE.md). The plain rule is
//   id = canonicalDigest(body);  text = canonicalize({...body, [idField]: id})
// Here every member of `body` is serialized once: the id is the digest of the members joined in
// canonical order, and the id member is inserted where canonical order puts it (member names sort
// by UTF-16 code units, `<` on strings). Equal to the plain rule for every plain object without
// `idField` (property test: test/fast-identified.test.ts).
import { digestText } from '../hash.js';
import { canonicalize, canonicalMemberTexts } from '../jcs.js';

/** `{id, text}` of the plain rule above. `body` must be a plain object without `idField`. */
export function identifiedCanonicalText(body: object, idField: string): { id: string; text: string } {
  let before = ''; // members whose names sort before idField, comma-joined
  let after = '';
  for (const [name, text] of canonicalMemberTexts(body)) {
    if (name < idField) before = before === '' ? text : `${before},${text}`;
    else after = after === '' ? text : `${after},${text}`;
  }
  const id = digestText(before === '' || after === '' ? `{${before}${after}}` : `{${before},${after}}`);
  // the name goes through JCS too: a lone surrogate in it is rejected, never escaped
  const member = `${canonicalize(idField)}:"${id}"`;
  return { id, text: `{${before === '' ? '' : `${before},`}${member}${after === '' ? '' : `,${after}`}}` };
}
