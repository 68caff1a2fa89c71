// Every sidecar option in one table: flag, environment variable, default and help. `--help` is generated from it.
export interface OptionSpec {
  name: string;
  type: 'string' | 'number' | 'boolean';
  default?: string | number | boolean;
  help: string;
}

export const OPTIONS: OptionSpec[] = [
  {
    name: 'path',
    type: 'string',
    help: 'WordPress root (the folder with wp-config.php or one level below it). Needed unless every --db-* option is given.',
  },
  { name: 'url', type: 'string', default: '', help: 'Site URL, passed to PHP workers (multisite: the main site).' },
  {
    name: 'channel',
    type: 'string',
    default: 'auto',
    help: 'How actions are executed: wp-cli, php, rest, or auto (wp-cli if `wp` is on PATH, else php).',
  },
  {
    name: 'workers',
    type: 'number',
    default: 2,
    help: 'PHP workers (or parallel REST requests) running actions at once.',
  },
  {
    name: 'batch-size',
    type: 'number',
    default: 100,
    help: "Most actions a lane claims at once; fewer when its actions are slow (about 1 s of work per claim). Not given: the site's action_scheduler_queue_runner_batch_size when a plugin filters it, else 100.",
  },
  {
    name: 'start-window-ms',
    type: 'number',
    default: 10,
    help: 'Fast actions: a worker commits the starts of about this many milliseconds of work at once (a start window, at most 25 actions) instead of one commit per action; 0 = one commit per action, the exact library sequence. See README, "Start windows".',
  },
  {
    name: 'poll-ms',
    type: 'number',
    default: 1000,
    help: 'Longest wait between looks at the queue when no nudge arrives.',
  },
  {
    name: 'action-timeout',
    type: 'number',
    default: 0,
    help: "Seconds one action may run before its worker is killed; 0 = the PHP filter sidecar_scheduler_action_time_limit, which is never below the site's action_scheduler_failure_period (default 300).",
  },
  { name: 'max-jobs-per-worker', type: 'number', default: 5000, help: 'Replace a PHP worker after this many actions.' },
  {
    name: 'max-worker-memory-mb',
    type: 'number',
    default: 256,
    help: 'Replace a PHP worker whose memory use passes this.',
  },
  { name: 'groups', type: 'string', default: '', help: 'Only claim actions of these groups (comma-separated slugs).' },
  {
    name: 'exclude-groups',
    type: 'string',
    default: '',
    help: 'Never claim actions of these groups (comma-separated slugs).',
  },
  {
    name: 'lanes',
    type: 'string',
    default: '',
    help: 'Dedicated workers per group: "emails:2,imports+exports:1". Those groups run only on their lanes; --workers serves every other group.',
  },
  {
    name: 'http-port',
    type: 'number',
    default: 9464,
    help: 'Port for /healthz and /metrics on 127.0.0.1; 0 turns it off.',
  },
  {
    name: 'nudge-port',
    type: 'number',
    default: 0,
    help: 'UDP port for nudges from PHP (loopback only); 0 = from SIDECAR_SCHEDULER_NUDGE in wp-config.php (udp://127.0.0.1:PORT, udp://localhost:PORT or udp://[::1]:PORT).',
  },
  {
    name: 'heartbeat-ms',
    type: 'number',
    default: 5000,
    help: 'How often the heartbeat row and statistics are written.',
  },
  {
    name: 'maintenance-ms',
    type: 'number',
    default: 60000,
    help: 'How often cleanup, stale-claim reset and timeouts run (one sidecar at a time).',
  },
  {
    name: 'shutdown-timeout-ms',
    type: 'number',
    default: 25000,
    help: 'On SIGTERM, how long running actions may take to finish. Keep below Supervisor stopwaitsecs.',
  },
  {
    name: 'multisite',
    type: 'boolean',
    default: false,
    help: 'Serve every site of a multisite network (on by itself when wp-config.php defines MULTISITE); --workers is then per site.',
  },
  {
    name: 'once',
    type: 'boolean',
    default: false,
    help: 'Run the maintenance pass, drain what is due now, then exit (for cron).',
  },
  { name: 'php-binary', type: 'string', default: 'php', help: 'PHP CLI for the php channel.' },
  { name: 'wp-binary', type: 'string', default: 'wp', help: 'WP-CLI for the wp-cli channel.' },
  {
    name: 'rest-url',
    type: 'string',
    default: '',
    help: 'Runner endpoint for the rest channel (default: <url>/wp-json/sidecar-scheduler/v1/runner/execute).',
  },
  {
    name: 'rest-headers',
    type: 'string',
    default: '',
    help: 'Extra headers for the rest channel, "Name: value" pairs separated by ";" (e.g. a Host header behind a proxy).',
  },
  {
    name: 'secret',
    type: 'string',
    default: '',
    help: 'HMAC secret for the rest channel (default: SIDECAR_SCHEDULER_SECRET or the option stored on activation).',
  },
  { name: 'db-host', type: 'string', help: 'Overrides DB_HOST (host, host:port or host:/socket).' },
  { name: 'db-name', type: 'string', help: 'Overrides DB_NAME.' },
  { name: 'db-user', type: 'string', help: 'Overrides DB_USER.' },
  { name: 'db-password', type: 'string', help: 'Overrides DB_PASSWORD.' },
  { name: 'table-prefix', type: 'string', help: 'Overrides $table_prefix.' },
  { name: 'log-level', type: 'string', default: 'info', help: 'trace, debug, info, warn, error.' },
  { name: 'help', type: 'boolean', default: false, help: 'Show this help.' },
];

export const envName = (option: string) => `SIDECAR_${option.toUpperCase().replace(/-/g, '_')}`;

export function helpText(): string {
  const lines = [
    'Usage: sidecar-scheduler --path=/var/www/html [options]',
    '',
    'Every option can also be set as an environment variable (shown in brackets).',
    '',
  ];
  for (const o of OPTIONS) {
    const flag = o.type === 'boolean' ? `--${o.name}` : `--${o.name}=<${o.type}>`;
    const def = o.default === undefined || o.default === '' ? '' : ` (default: ${o.default})`;
    lines.push(`  ${flag.padEnd(34)} ${o.help}${def} [${envName(o.name)}]`);
  }
  lines.push(
    '',
    'Exit codes: 0 clean stop, 64 bad usage, 78 configuration or schema problem (not restarted by the shipped units), 69 database or PHP workers still unavailable after --once retried, 70 internal error, 130 or 143 a second SIGINT or SIGTERM during the stop (exits at once, without waiting for running actions). Transient start-up failures are retried with backoff.',
  );
  return lines.join('\n');
}
