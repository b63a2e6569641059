// Real headless Chromium for the console's tests: Debian's `chromium` (the machine cannot download
// browser builds), driven by playwright-core. A missing browser is a failure, never a skip: CI
// installs it (.ci/run); HELM_CHROMIUM points elsewhere.
import { existsSync, mkdirSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.HELM_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = new URL('../test-artifacts/', import.meta.url);

export async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium; .ci/run does) or set HELM_CHROMIUM`,
    );
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
}

export const artifact = (name: string) => new URL(name, ARTIFACTS).pathname;
