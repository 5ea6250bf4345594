export interface StreamInstruction {
  /** The `<Stream url>`. */
  url: string;
  /** The `<Parameter>`s, which come back in `start.customParameters`. */
  parameters: Record<string, string>;
}

const XML_ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" };

function unescape(value: string): string {
  return value.replace(/&(amp|lt|gt|quot|apos);/g, (entity) => XML_ENTITIES[entity]!);
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match ? unescape(match[1]!) : undefined;
}

/**
 * Reads `<Connect><Stream url><Parameter .../></Stream></Connect>` from a
 * TwiML answer, as Twilio does; undefined when it holds no Stream (e.g. a
 * `<Say>` and `<Hangup/>`).
 */
export function parseStreamTwiml(xml: string): StreamInstruction | undefined {
  const stream = /<Stream\b[^>]*>/.exec(xml)?.[0];
  const url = stream ? attribute(stream, 'url') : undefined;
  if (!url) return undefined;
  const parameters: Record<string, string> = {};
  for (const [tag] of xml.matchAll(/<Parameter\b[^>]*\/?>/g)) {
    const name = attribute(tag, 'name');
    const value = attribute(tag, 'value');
    if (name !== undefined && value !== undefined) parameters[name] = value;
  }
  return { url, parameters };
}
