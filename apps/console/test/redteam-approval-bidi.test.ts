// Red team (I-CONSOLE-1): the arguments the approver reads are the arguments it signs for.
//
// Attack (the Caller: it controls every byte of `args`, and the PEP records them faithfully):
// string values carrying Unicode bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE, U+2066–
// U+2069 isolates) and invisible format characters (U+200B ZERO WIDTH SPACE, U+2060 WORD JOINER).
// The page renders the arguments as text (`JSON.stringify` into a <pre>), which is safe against
// markup but not against display reordering: `"/home/ops/\u202Etxt.hs"` reads as
// `/home/ops/sh.txt"` and a zero-width space hides inside `rm -rf /\u200B tmp`. The binding check
// passes (the page hashes exactly what it received), Approve is enabled, and the approver signs
// for a string that does not read as what it is.
//
// Invariant checked: when the page lets the approver sign, the arguments shown contain no
// character that changes how the surrounding text is displayed or is itself invisible (Unicode
// general category Cf: bidi controls, zero-width and other format characters) — such characters
// must reach the approver visibly (escaped), or signing must be refused.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch } from './browser.ts';
import { approveIfEnabled, openApproval, pendingChallenge } from './offline-console.ts';

const realArgs = {
  path: '/home/ops/\u202Etxt.hs',
  cmd: 'rm -rf /\u200B tmp/cache',
  to: '\u2066alice@example.com\u2069\u2067moc.rekcatta@\u2069',
};
const { view } = pendingChallenge(realArgs, { args: realArgs });

let browser: Browser;
beforeAll(async () => {
  browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

describe('redteam I-CONSOLE-1: the arguments shown read as the arguments signed', () => {
  it('never signs while the rendered arguments hold bidi controls or invisible format characters', async () => {
    const { page, posted } = await openApproval(browser, view);
    const shownText = (await page.textContent('#args-rendered')) ?? '';
    await approveIfEnabled(page);
    await page.close();

    const hidden = [...shownText]
      .filter((ch) => /\p{Cf}/u.test(ch))
      .map((ch) => `U+${(ch.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`);
    if (posted.length > 0) expect(hidden, `signed while showing ${JSON.stringify(shownText)}`).toEqual([]);
  });
});
