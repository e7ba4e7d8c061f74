// Electronegativity uses commander without declaring it and breaks on the modern one this
// project depends on; inside its own files, `commander` resolves to commander 5 (commander-v5).
const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (request === 'commander' && parent?.filename?.includes('@doyensec')) return resolve.call(this, 'commander-v5', parent, ...rest);
  return resolve.call(this, request, parent, ...rest);
};
