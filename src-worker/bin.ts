#!/usr/bin/env -S node --max-semi-space-size=2 --optimize-for-size
// The `sidecar-scheduler` command. The V8 flags above (also in the shipped Supervisor and systemd files) keep the
// sidecar under 100 MB resident while draining: it makes many short-lived objects per action, and V8 otherwise grows
// its heap lazily (a 100k drain here: ~80 MB with them, ~102 MB without, same throughput). V8 reads them only at
// start-up, so they cannot be set from here; `node dist/src-worker/bin.js` without them works, with more memory.
import { run } from './main';
run();
