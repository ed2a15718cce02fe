/**
 * @module
 * Limits of the runtime that several layers respect.
 */

/** The longest delay a Node timer holds (about 24.8 days); a longer one fires at once. */
export const MAX_TIMER = 2 ** 31 - 1;
