// Express Gateway reads its certificates once, at start: sidecert restarts this
// container (SIDECERT_RELOAD=docker-restart:gateway) after every change.
const path = require('path');
// As PID 1, node would ignore SIGTERM and every restart would wait out Docker's
// stop timeout before SIGKILL.
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
require('express-gateway')().load(path.join(__dirname, 'config')).run();
