/** An amount with at most 2 decimals as whole cents: sums of cents are exact where sums of floats are not. */
export const toCents = (amount: number): number => Math.round(amount * 100);

/** Cents back as plain decimal text (`888` → `8.88`, `10000` → `100`). */
export const fromCents = (cents: number): string => (cents / 100).toFixed(2).replace(/\.?0+$/, '');
