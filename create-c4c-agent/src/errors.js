// @ts-check
/**
 * The one error the creator throws on purpose: a sentence that says what failed and what to do.
 * Anything else that escapes is a bug and is printed with its stack.
 */

/** @typedef {'E_ARGS' | 'E_TEMPLATE' | 'E_NOT_EMPTY' | 'E_NAME' | 'E_CANCELLED' | 'E_WRITE'} CreateErrorCode */

export class CreateError extends Error {
  /**
   * @param {CreateErrorCode} code
   * @param {string} message
   * @param {{ cause?: unknown }} [options]
   */
  constructor(code, message, options) {
    super(message, options);
    this.name = 'CreateError';
    /** @type {CreateErrorCode} */
    this.code = code;
  }
}
