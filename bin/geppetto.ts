#!/bin/sh
//bin/sh -c :; exec node --v8-pool-size=1 "$0" "$@"
/*
 * geppetto. Read by both sh and Node, as bin/kpkg.ts is (see there why one V8 background thread).
 */
import { main } from '../geppetto/cli/index.js';

process.exitCode = await main(process.argv);
