/**
 * The agent's own profile (`c4c manage agent info|register|update|status|publish|unpublish|budget`)
 * and `c4c feedback`. Shapes: docs/protocol.md, "Agent".
 */
import { randomBytes } from 'node:crypto';
import type { Hono } from 'hono';
import { rfc3339 } from '../../protocol/frames.js';
import {
  feedbackBodySchema,
  publishAgentBodySchema,
  registerAgentBodySchema,
  setStatusBodySchema,
  updateAgentBodySchema,
} from '../../protocol/rest.js';
import type { Core } from '../core.js';
import type { AgentRecord } from '../state.js';
import { agentView } from '../views.js';
import { body, ok, type AppEnv } from './respond.js';

export function agentRoutes(api: Hono<AppEnv>, core: Core): void {
  const { state, hub } = core;
  const view = (agent: AgentRecord) => agentView(state, agent, hub.isConnected(agent.id));

  api.get('/agent/me', (c) => ok(c, view(c.get('agent'))));

  /**
   * A new agent. The real platform ties it to the caller's account; the embedded one has no
   * accounts, so it mints a token for the new agent and returns it as `apiKey` (an extra key the
   * public client ignores), so a local test can act as it.
   */
  api.post('/agent/register', async (c) => {
    const input = await body(c, registerAgentBodySchema);
    const now = rfc3339();
    const agent: AgentRecord = {
      id: state.nextId('agents'),
      name: input.name,
      token: `cl_${randomBytes(16).toString('hex')}`,
      category: input.category || null,
      description: input.description ?? null,
      status: 'offline',
      createdAt: now,
      capabilities: input.capabilities ?? [],
      preferences: input.preferences ?? {},
      marketVisibility: 'private',
      marketPublishedAt: null,
      lastActiveAt: now,
    };
    state.put('agents', agent);
    state.changed();
    return ok(c, { ...view(agent), apiKey: agent.token }, 201);
  });

  api.patch('/agent/me', async (c) => {
    const me = c.get('agent');
    const input = await body(c, updateAgentBodySchema);
    if (input.name !== undefined) me.name = input.name;
    if (input.description !== undefined) me.description = input.description;
    if (input.capabilities) me.capabilities = input.capabilities;
    if (input.preferences) me.preferences = { ...me.preferences, ...input.preferences };
    me.lastActiveAt = rfc3339();
    state.changed();
    return ok(c, { message: 'profile updated' });
  });

  api.post('/agent/me/status', async (c) => {
    const me = c.get('agent');
    const input = await body(c, setStatusBodySchema);
    me.status = input.status;
    me.lastActiveAt = rfc3339();
    state.changed();
    return ok(c, { message: `status set to ${input.status}`, status: input.status });
  });

  api.post('/agent/me/publish', async (c) => {
    const me = c.get('agent');
    const input = await body(c, publishAgentBodySchema);
    const now = rfc3339();
    if (input.preferences) me.preferences = { ...me.preferences, ...input.preferences };
    me.marketVisibility = 'public';
    me.marketPublishedAt = now;
    state.changed();
    return ok(c, {
      id: me.id,
      name: me.name,
      marketVisibility: me.marketVisibility,
      marketPublishedAt: now,
      message: 'agent published to the market',
    });
  });

  api.post('/agent/me/unpublish', (c) => {
    const me = c.get('agent');
    me.marketVisibility = 'private';
    me.marketPublishedAt = null;
    state.changed();
    return ok(c, {
      id: me.id,
      marketVisibility: me.marketVisibility,
      message: 'agent removed from the market',
    });
  });

  /** The embedded platform has no wallets: an unlimited budget, with what the agent has spent. */
  api.get('/agent/me/budget', (c) => {
    const me = c.get('agent').id;
    const spent = [...state.invocations.values()]
      .filter((i) => i.callerAgentId === me && i.status === 'completed')
      .reduce((total, i) => total + Number(i.price), 0);
    return ok(c, { budgetType: 'unlimited', budgetUsed: String(spent) });
  });

  api.post('/feedbacks', async (c) => {
    const me = c.get('agent');
    const input = await body(c, feedbackBodySchema);
    const feedback = {
      id: state.nextId('feedbacks'),
      agentId: me.id,
      content: input.content,
      createdAt: rfc3339(),
    };
    state.put('feedbacks', feedback);
    state.changed();
    core.logger.info({ agentId: me.id, feedbackId: feedback.id }, 'feedback received');
    return ok(c, { id: feedback.id, content: feedback.content, createdAt: feedback.createdAt }, 201);
  });
}
