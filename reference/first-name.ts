/**
 * Honorifics dropped from the front of a name, compared without case and
 * without a trailing dot. Hebrew forms are written with ASCII or Hebrew
 * punctuation (ד"ר, ד״ר, גב').
 */
const TITLES = new Set([
  'dr',
  'mr',
  'mrs',
  'ms',
  'miss',
  'mx',
  'prof',
  'sir',
  'madam',
  'rev',
  'ד"ר',
  'ד״ר',
  "פרופ'",
  'פרופ׳',
  'מר',
  "גב'",
  'גב׳',
  'גברת',
]);

/** A longer first name than this is not a first name (garbage in a name field). */
const MAX_FIRST_NAME_LENGTH = 64;

/** Quotes, commas and similar wrapped around a token ("Jane," → Jane). */
const EDGE_PUNCTUATION = /^[\s"'`(),;:]+|[\s"'`(),;:]+$/gu;

function isTitle(token: string): boolean {
  return TITLES.has(token.toLowerCase()) || TITLES.has(token.toLowerCase().replace(/\.$/u, ''));
}

/** "J." or "J": an initial, not a name. */
function isInitial(token: string): boolean {
  return /^\p{L}\.?$/u.test(token);
}

/**
 * The first name in a full name, or null when there is none.
 *
 * - whitespace of any kind is collapsed: `"  Dana   Levi "` → `Dana`
 * - leading titles are dropped: `"Dr. Jane Q. Smith"` → `Jane`, `"ד״ר יוסי כהן"` → `יוסי`
 * - middle initials are ignored; a leading initial gives way to the next
 *   given name (`"J. Robert Smith"` → `Robert`) but not to the surname
 *   (`"J. Smith"` → null)
 * - `"Smith, Jane"` → `Jane`
 * - a single name is the first name: `"Cher"` → `Cher`
 * - letters of any script are kept as written (no case change)
 * - empty, blank, only a title, or longer than 64 characters → null
 */
export function extractFirstName(fullName: string | null | undefined): string | null {
  if (typeof fullName !== 'string') return null;
  let text = fullName.normalize('NFC').replace(/\s+/gu, ' ').trim();
  const comma = text.indexOf(',');
  if (comma > 0 && comma < text.length - 1) text = text.slice(comma + 1).trim();

  const tokens = text
    .split(' ')
    .map((token) => token.replace(EDGE_PUNCTUATION, ''))
    .filter((token) => token !== '');
  while (tokens.length > 0 && isTitle(tokens[0]!)) tokens.shift();
  if (tokens.length === 0) return null;

  let first = tokens[0]!;
  if (isInitial(first)) {
    // "J. Robert Smith": the given name is the next token; "J. Smith": the next token is the surname.
    if (tokens.length < 3 || isInitial(tokens[1]!)) return null;
    first = tokens[1]!;
  }
  return first.length <= MAX_FIRST_NAME_LENGTH ? first : null;
}
