// Copies the non-TypeScript files the built server reads at run time (Lua scripts) into dist/.
import { cpSync } from 'node:fs';

cpSync('src/sessions/lua', 'dist/sessions/lua', { recursive: true });
