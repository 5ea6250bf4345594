import { describe, expect, it } from 'vitest';
import { extractFirstName } from '../../reference/first-name.js';

describe('extractFirstName', () => {
  it.each([
    ['Dr. Jane Q. Smith', 'Jane'],
    ['dr jane smith', 'jane'],
    ['Mr. John Smith', 'John'],
    ['Mrs Anna Karenina', 'Anna'],
    ['Ms. Dana Levi', 'Dana'],
    ['Prof. Albert Einstein', 'Albert'],
    ['Jane Q. Smith', 'Jane'],
    ['J. Robert Oppenheimer', 'Robert'],
    ['  Dana   Levi  ', 'Dana'],
    ['Dana\tLevi\n', 'Dana'],
    ['Cher', 'Cher'],
    ['Smith, Jane', 'Jane'],
    ["Michael O'Brien", 'Michael'],
    ['Jean-Luc Picard', 'Jean-Luc'],
    ['יוסי כהן', 'יוסי'],
    ['ד"ר יוסי כהן', 'יוסי'],
    ['ד״ר רחל לוי', 'רחל'],
    ['محمد علي', 'محمد'],
    ['"Jane" Smith', 'Jane'],
  ])('%j → %j', (input, expected) => {
    expect(extractFirstName(input)).toBe(expected);
  });

  it.each([[''], ['   '], ['Dr.'], ['Mr. Mrs.'], ['J. Smith'], [null], [undefined], ['x'.repeat(65)]])(
    '%j → null',
    (input) => {
      expect(extractFirstName(input)).toBeNull();
    },
  );
});
