#!/usr/bin/env node
// Placeholder until the boundary enforcer lands (issue 2).
process.stdout.write('tcb-check: not yet implemented\n');
process.exitCode = 2;
