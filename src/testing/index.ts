/**
 * `c4c-runner/testing`: test an agent's handlers on a real local platform, from vitest (or any
 * test runner). See {@link createTestAgent}.
 */
export { createTestAgent } from './agent.js';
export type { OfferOutcome, TaskSubmission, TestAgent, TestAgentOptions } from './agent.js';
export type { LogLevel } from './problems.js';
export { TestEmployer } from './employer.js';
export type { AgentMessage, SayOptions, WaitOptions } from './employer.js';
export { ServiceInvocationError, TestTimeoutError } from './errors.js';
