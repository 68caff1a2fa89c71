// The nudge port: UDP datagrams from PHP ({"prefix": "..."}) on loopback, in the forms SIDECAR_SCHEDULER_NUDGE accepts.
import { createSocket, Socket } from 'node:dgram';
import type { Logger } from 'pino';
import { ConfigError, NudgeHost } from './config/config';

/** Errors that mean this address family or address does not exist on the host (IPv6 switched off, say). */
const UNAVAILABLE = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EPROTONOSUPPORT', 'EINVAL']);

function bindOne(type: 'udp4' | 'udp6', address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(type === 'udp6' ? { type, ipv6Only: true } : { type });
    socket.once('error', (e) => {
      socket.close();
      reject(e);
    });
    socket.bind(port, address, () => {
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

/**
 * Listens on 127.0.0.1, on ::1, or on both for `localhost` (PHP resolves it to either, depending on the host's
 * resolver). An address the host does not have is a configuration error for the form that names it ([::1]); for
 * `localhost` the other loopback suffices. A port already taken (another sidecar on this host) leaves this one
 * polling, as before. Every datagram goes to `onNudge` with the site prefix it names, if it names one.
 */
export async function listenForNudges(
  host: NudgeHost,
  port: number,
  log: Logger,
  onNudge: (prefix: string | undefined) => void,
): Promise<Socket[]> {
  const targets: Array<['udp4' | 'udp6', string]> =
    host === '127.0.0.1'
      ? [['udp4', '127.0.0.1']]
      : host === '::1'
        ? [['udp6', '::1']]
        : [
            ['udp4', '127.0.0.1'],
            ['udp6', '::1'],
          ];
  const sockets: Socket[] = [];
  for (const [type, address] of targets) {
    try {
      sockets.push(await bindOne(type, address, port));
    } catch (e) {
      const code = String((e as { code?: string }).code);
      const shown = address.includes(':') ? `[${address}]` : address;
      if (UNAVAILABLE.has(code) && host !== 'localhost') {
        for (const s of sockets) s.close();
        throw new ConfigError(
          `cannot receive nudges on udp://${shown}:${port}: ${code} (no such loopback address on this host); use udp://127.0.0.1:${port} in SIDECAR_SCHEDULER_NUDGE`,
        );
      }
      log.error(
        { err: (e as Error).message, address: `udp://${shown}:${port}` },
        UNAVAILABLE.has(code)
          ? 'loopback address unavailable for nudges; using the other one'
          : 'nudge port unavailable; polling only',
      );
    }
  }
  for (const s of sockets) {
    s.on('message', (msg) => {
      let prefix: string | undefined;
      try {
        const p = JSON.parse(String(msg)).prefix;
        if (typeof p === 'string') prefix = p;
      } catch {
        /* unreadable: wake every site */
      }
      onNudge(prefix);
    });
    s.on('error', (e) => log.error({ err: e.message }, 'nudge socket error'));
  }
  return sockets;
}
