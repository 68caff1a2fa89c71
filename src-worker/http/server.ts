// /healthz (JSON, 200 or 503) and /metrics (Prometheus) on 127.0.0.1 only.
import { createServer, Server } from 'node:http';
import type { HealthSource } from '../sidecar-set';
import type { Metrics } from '../metrics';

export function startHttp(port: number, sidecar: HealthSource, metrics: Metrics): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (req.url === '/healthz') {
      const body = {
        status: sidecar.dbHealthy ? 'ok' : 'degraded', db: sidecar.dbHealthy, worker: sidecar.workerId, lanes: sidecar.laneCount,
        running: sidecar.running, executed: sidecar.executedTotal, lastClaimAt: sidecar.lastClaimAt ? new Date(sidecar.lastClaimAt).toISOString() : null,
      };
      res.writeHead(sidecar.dbHealthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    } else if (req.url === '/metrics') {
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(await metrics.registry.metrics());
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
