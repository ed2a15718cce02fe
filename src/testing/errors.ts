/**
 * What the test kit throws: a wait that ran out (with a hint about the handler that should have
 * answered), and a service invocation the agent failed (with the handler's message).
 */

/** The agent did not do what a test waited for in time. The message names the handler to check. */
export class TestTimeoutError extends Error {
  override name = 'TestTimeoutError';
}

/** The agent failed a service invocation (its `service-invoked` handler threw). */
export class ServiceInvocationError extends Error {
  override name = 'ServiceInvocationError';
  /** The invocation as the caller sees it: id, status (`failed`), error. */
  readonly invocation: Record<string, unknown>;

  constructor(message: string, invocation: Record<string, unknown>) {
    super(message);
    this.invocation = invocation;
  }
}
