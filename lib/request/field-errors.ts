import { AppError, type FieldError } from '../errors.js';

/** How many problems one refusal lists; the rest are counted, never collected. */
export const MAX_LISTED_ERRORS = 100;

/**
 * The problems of one request, listed up to MAX_LISTED_ERRORS and counted past it. A hostile request can hold
 * hundreds of thousands of problems within the size limits; holding (or answering) every one of them would cost
 * memory in proportion, so beyond the cap each problem costs one increment.
 */
export class FieldErrors {
  private readonly listed: FieldError[] = [];
  private omitted = 0;

  /** `base` is where the request sits (`''`, or `/3` in a batch): the closing "more problems" entry names it. */
  constructor(readonly base: string) {}

  add(path: string, message: string): void {
    if (this.listed.length < MAX_LISTED_ERRORS) this.listed.push({ path, message });
    else this.omitted++;
  }

  /** Problems known only by number (the unknown properties past the ones checked one by one). */
  addUnlisted(count: number): void {
    this.omitted += count;
  }

  /** True once the list is full: a caller may skip building a path that would only be counted. */
  get full(): boolean {
    return this.listed.length >= MAX_LISTED_ERRORS;
  }

  get count(): number {
    return this.listed.length + this.omitted;
  }

  /** What a caller reads: the listed problems, then one entry saying how many more there are, if any. */
  toList(): FieldError[] {
    if (this.omitted === 0) return [...this.listed];
    const more = `${this.omitted} more problem${this.omitted === 1 ? ' is' : 's are'} not listed`;
    return [...this.listed, { path: this.base, message: `${more} (only the first ${MAX_LISTED_ERRORS} are)` }];
  }
}

/** The 400 answer for a request with problems: the count is the true total, the list is capped. */
export function invalidRequestOf(errors: FieldErrors, requestId?: string): AppError {
  const n = errors.count;
  const listed = n > MAX_LISTED_ERRORS ? `the first ${MAX_LISTED_ERRORS} are listed in errors` : 'listed in errors';
  return new AppError(
    400,
    'InvalidParameter',
    `The request is invalid: ${n} problem${n === 1 ? '' : 's'}, ${listed}.`,
    {
      errors: errors.toList(),
      ...(requestId === undefined ? {} : { requestId }),
    },
  );
}
