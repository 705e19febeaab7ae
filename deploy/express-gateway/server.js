// Express Gateway reads its certificates once, at start: sidecert restarts this
// container (SIDECERT_RELOAD=docker-restart:gateway) after every change.
const path = require('path');
require('express-gateway')().load(path.join(__dirname, 'config')).run();
