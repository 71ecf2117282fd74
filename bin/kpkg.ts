#!/usr/bin/env node
import { main } from '../packager/cli/index.js';

process.exitCode = await main(process.argv);
