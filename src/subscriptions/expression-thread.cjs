// Entry of an expression thread when hookflow runs from its TypeScript sources (`node --import tsx`,
// jest): a worker thread may start without its parent's TypeScript loader (jest's is jest's own), so it
// registers tsx before it loads the task. Built code (dist/) runs expression-task.js directly.
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS: tsx must be registered before the require of TypeScript */
require('tsx/cjs/api').register();
module.exports = require('./expression-task.ts');
