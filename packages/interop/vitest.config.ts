import { helmVitestConfig } from '../../vitest.shared.ts';

export default helmVitestConfig({ threshold: 90 });
