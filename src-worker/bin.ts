#!/usr/bin/env node
// The `sidecar-scheduler` command.
import { run } from './main';
run();
