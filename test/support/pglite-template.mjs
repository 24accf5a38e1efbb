// Writes a freshly initialised PGlite data directory as a tarball (argv[2]): jest's global setup runs
// this once per run so each test file loads a cluster in about two seconds instead of running
// PGlite's initdb (about ten seconds of CPU) again. A plain ESM script: PGlite's ESM build needs no
// transform here, unlike inside jest.
import { Buffer } from 'node:buffer';
import { renameSync, writeFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';

const target = process.argv[2];
const pglite = await PGlite.create();
const dump = await pglite.dumpDataDir('none');
await pglite.close();
// Written under another name first: a run that stops half-way leaves no truncated template behind.
writeFileSync(`${target}.partial`, Buffer.from(await dump.arrayBuffer()));
renameSync(`${target}.partial`, target);
