#!/usr/bin/env node
/*
 * punch: run as root on a server (or with --root DIR anywhere). This file only hands argv to
 * punch/cli; the exit status is decided there.
 */
import { main } from '../punch/cli/index.js';

process.exitCode = await main(process.argv);
