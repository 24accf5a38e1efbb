import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Name and version from package.json (one level above both src/ and dist/). */
export const packageInfo = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { name: string; version: string };
