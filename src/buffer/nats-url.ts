import { ConfigError } from '../errors.js';

/** The servers of a `JOURNAL_URL` and the credentials it carries (user and password, or a token). */
export interface NatsServers {
  /** `host:port` of each server, credentials removed. */
  readonly servers: string[];
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
}

/**
 * Masks the credentials of a NATS URL (one or several, comma-separated) so
 * it can be logged: `nats://app:s3cret@h:4222` → `nats://***@h:4222`. A
 * part that is not a URL has everything before its last `@` masked.
 */
export function maskNatsUrl(url: string): string {
  return url
    .split(',')
    .map((part) => part.trim().replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^@]*@/i, (_match, scheme?: string) => `${scheme ?? ''}***@`))
    .join(',');
}

/**
 * Parses `nats://[user:pass@|token@]host:port[,nats://host:port…]`.
 * @throws {ConfigError} naming the (masked) URL: not a nats:// or tls:// URL, or no host.
 */
export function parseNatsUrl(url: string): NatsServers {
  if (typeof url !== 'string' || url.trim() === '') throw new ConfigError(`JOURNAL_URL must be a nats:// URL (received ${JSON.stringify(url)})`);
  const servers: string[] = [];
  let credentials: { user?: string; pass?: string; token?: string } = {};
  for (const part of url.split(',')) {
    let parsed: URL;
    try {
      parsed = new URL(part.trim());
    } catch {
      throw new ConfigError(`JOURNAL_URL ${maskNatsUrl(url)} is not a URL`);
    }
    if (!['nats:', 'tls:'].includes(parsed.protocol) || parsed.hostname === '') {
      throw new ConfigError(`JOURNAL_URL ${maskNatsUrl(url)} must be nats://host:port (or tls://)`);
    }
    const user = decodeURIComponent(parsed.username);
    const pass = decodeURIComponent(parsed.password);
    if (user && pass) credentials = { user, pass };
    else if (user) credentials = { token: user };
    servers.push(`${parsed.protocol}//${parsed.host}`);
  }
  return { servers, ...credentials };
}
