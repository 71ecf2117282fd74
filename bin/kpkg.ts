#!/bin/sh
//bin/sh -c :; exec node --v8-pool-size=1 "$0" "$@"
/*
 * kpkg. This file is read by both sh and Node. Run as a program (the `kpkg` that npm installs),
 * sh runs the line above: a no-op (`//bin/sh` is /bin/sh), then Node on this same file with one
 * V8 background thread (--v8-pool-size) rather than the default four. To Node the first line is
 * a hashbang and the second a comment. On two cores, four V8 threads (compilation, garbage
 * collection) took the core the main thread works on: an index of 5,000 packages ran ~9% faster
 * with one (bench/repo.mjs); a build was unchanged. `node dist/bin/kpkg.js` works too, with
 * Node's defaults.
 */
import { main } from '../packager/cli/index.js';

process.exitCode = await main(process.argv);
