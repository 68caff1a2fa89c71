#!/usr/bin/env node
// The `sidecar-scheduler` command. Run it as `node --max-semi-space-size=2 dist/src-worker/bin.js`: the sidecar makes
// many short-lived objects per action, and a small young generation keeps it near 87 MB resident during a 100k drain
// instead of ~105 MB (a flag V8 only honours at start-up, so it cannot be set from here).
import { run } from './main';
run();
