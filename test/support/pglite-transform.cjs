/**
 * PGlite's CommonJS build loads Node built-ins with `import("fs")`, which jest's VM refuses without
 * --experimental-vm-modules. Built-ins load the same through require, so that is all this changes.
 */
const { createHash } = require('node:crypto'); // eslint-disable-line @typescript-eslint/no-require-imports

module.exports = {
  process(source) {
    // Under another name: the Emscripten code declares its own `var require` in the same scope.
    const code = source.replace(/\bimport\(("(?:node:)?[a-z/_]+")\)/g, 'Promise.resolve(__builtinRequire($1))');
    return { code: `const __builtinRequire = require;${code}` };
  },
  getCacheKey(source) {
    return createHash('sha256').update('pglite-transform-2').update(source).digest('hex');
  },
};
