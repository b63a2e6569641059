#!/usr/bin/env node
import { start } from './entry.js';

await start(process.argv);
