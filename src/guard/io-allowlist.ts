import type { Attributes as OtelAttributes } from '@opentelemetry/api';
import { hostOf, urlOf } from './io-span.js';

/**
 * A host the app's live path may talk to: an exact host (`api.openai.com`),
 * a wildcard for its subdomains (`*.openai.com`), or a RegExp tested against
 * the host and the full URL.
 */
export type HostPattern = string | RegExp;

/**
 * The call's own media links (the Realtime model endpoint, a TTS host):
 * I/O to these during a live call is allowed and counted, never a violation.
 */
export class IoAllowlist {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];
  private readonly patterns: RegExp[] = [];

  constructor(hosts: readonly HostPattern[] = [], optionName = 'allowHosts') {
    if (!Array.isArray(hosts)) throw new TypeError(`${optionName} must be an array of host names or RegExps (received ${JSON.stringify(hosts)})`);
    for (const host of hosts) {
      if (host instanceof RegExp) this.patterns.push(host);
      else if (typeof host === 'string' && /^(\*\.)?[a-z0-9.:[\]_-]+$/i.test(host.trim())) {
        const name = host.trim().toLowerCase();
        if (name.startsWith('*.')) this.suffixes.push(name.slice(1));
        else this.exact.add(name);
      } else {
        throw new TypeError(`${optionName}: each entry must be a host name, *.domain or a RegExp (received ${JSON.stringify(host)})`);
      }
    }
  }

  get empty(): boolean {
    return this.exact.size === 0 && this.suffixes.length === 0 && this.patterns.length === 0;
  }

  /** The entry that allows this span's host, as text; undefined if none does. */
  match(attributes: OtelAttributes): string | undefined {
    if (this.empty) return undefined;
    const host = hostOf(attributes);
    if (host !== undefined) {
      if (this.exact.has(host)) return host;
      const suffix = this.suffixes.find((s) => host.endsWith(s));
      if (suffix !== undefined) return `*${suffix}`;
    }
    const url = urlOf(attributes);
    const pattern = this.patterns.find((p) => (host !== undefined && test(p, host)) || (url !== undefined && test(p, url)));
    return pattern?.toString();
  }
}

/** RegExp#test without the state a global or sticky RegExp keeps between calls. */
function test(pattern: RegExp, text: string): boolean {
  pattern.lastIndex = 0;
  return pattern.test(text);
}
