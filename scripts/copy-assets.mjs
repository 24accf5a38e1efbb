// Copies the non-TypeScript files the built server reads at run time (Lua scripts) into dist/.
// The folder is replaced, not merged, so a renamed or deleted script does not linger there.
import { cpSync, rmSync } from 'node:fs';

rmSync('dist/sessions/lua', { recursive: true, force: true });
cpSync('src/sessions/lua', 'dist/sessions/lua', { recursive: true });
