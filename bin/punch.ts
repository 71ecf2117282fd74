#!/bin/sh
//bin/sh -c :; exec node --v8-pool-size=1 "$0" "$@"
/*
 * punch (read by both sh and Node, as bin/kpkg.ts is: rpmlint refuses /usr/bin/env interpreters): run as root on a server (or with --root DIR anywhere). This file only hands argv to
 * punch/cli; the exit status is decided there.
 */
import { main } from '../punch/cli/index.js';

process.exitCode = await main(process.argv);
