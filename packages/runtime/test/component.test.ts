// Unit checks of src/component.ts that I-SANDBOX-7 does not reach through the command line.
import { readFileSync } from 'node:fs';
import { PREVIEW2_INTERFACES } from '@helm/runtime-sandbox';
import { describe, expect, it } from 'vitest';
import {
  checkImports,
  componentInterfaces,
  JCO_TRANSPILER,
  PinnedComponents,
  transpileComponent,
} from '../src/internal/component.ts';
import { buildComponent } from './component-builder.ts';

const json = (url: URL): Record<string, unknown> => JSON.parse(readFileSync(url, 'utf8'));

describe('jco wiring', () => {
  it('pins the exact jco-transpile version that package.json declares and that is installed', () => {
    const manifest = json(new URL('../package.json', import.meta.url)) as {
      dependencies: Record<string, string>;
    };
    expect(manifest.dependencies[JCO_TRANSPILER.name]).toBe(JCO_TRANSPILER.version);
    const installed = json(
      new URL('../node_modules/@bytecodealliance/jco-transpile/package.json', import.meta.url),
    );
    expect(installed.version).toBe(JCO_TRANSPILER.version);
  });

  it('admits only interfaces the sandbox host provides, and none of wasi:filesystem', () => {
    for (const name of componentInterfaces()) expect(PREVIEW2_INTERFACES).toContain(name);
    const withheld = PREVIEW2_INTERFACES.filter((name) => !componentInterfaces().includes(name));
    expect(withheld.sort()).toEqual(['wasi:filesystem/preopens', 'wasi:filesystem/types']);
  });

  it('refuses imports outside the list, versioned or not, and names what they are', () => {
    expect(() => checkImports(['wasi:cli/stdout@0.2.3', 'wasi:random/random'])).not.toThrow();
    expect(() => checkImports(['acme:db/query@1.0.0'])).toThrow(
      expect.objectContaining({
        code: 'COMPONENT_IMPORT_DENIED',
        message: expect.stringContaining('not provided by the sandbox'),
      }),
    );
  });

  it('gives up on a transpilation that passes its deadline (the worker is terminated)', async () => {
    const component = await buildComponent('library');
    await expect(transpileComponent(component, 1)).rejects.toMatchObject({
      code: 'COMPONENT_INVALID',
      message: expect.stringContaining('did not finish within 1 ms'),
    });
    // A failure is not remembered: the next call transpiles again.
    expect((await transpileComponent(component)).exports).toEqual([]);
  });

  it('serves the sandbox only output that was verified against a pin', async () => {
    await expect(new PinnedComponents().transpiler(new Uint8Array([1]))).rejects.toThrow(
      'not verified against its pin',
    );
  });
});
