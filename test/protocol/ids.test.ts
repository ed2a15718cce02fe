/** The one id type: either form in, one canonical form for comparison, the original form kept. */
import { describe, expect, it } from 'vitest';
import { decodeServerFrame } from '../../src/protocol/frames.js';
import { idKey, idSchema, isId, parseId, sameId } from '../../src/protocol/ids.js';
import {
  acceptedTasksSchema,
  employmentListSchema,
  historyPageSchema,
  invocationListSchema,
  paths,
} from '../../src/protocol/rest.js';

describe('Id', () => {
  it.each([42, '42', '042', 9_007_199_254_740_993n.toString()])(
    'accepts %j and keeps it as it came',
    (value) => {
      expect(idSchema.parse(value)).toBe(value);
      expect(isId(value)).toBe(true);
      expect(parseId(value)).toBe(value);
    },
  );

  it.each([0, '0', -1, 1.5, '1.5', '', ' 42', '4e2', '0x2a', 'abc', null, undefined, true, {}, [42]])(
    'refuses %j',
    (value) => {
      expect(idSchema.safeParse(value).success).toBe(false);
      expect(isId(value)).toBe(false);
      expect(parseId(value)).toBeUndefined();
    },
  );

  it('compares and keys in one canonical form', () => {
    expect(idKey(42)).toBe('42');
    expect(idKey('42')).toBe('42');
    expect(idKey('0042')).toBe('42');
    // Beyond 2^53 a number would round; the key of a string id stays exact.
    expect(idKey('9007199254740993')).toBe('9007199254740993');
    expect(sameId(42, '42')).toBe(true);
    expect(sameId('042', 42)).toBe(true);
    expect(sameId(42, 43)).toBe(false);
    expect(sameId(undefined, undefined)).toBe(false);
    expect(sameId(null, 1)).toBe(false);
  });

  it('goes into a path in the form it was given', () => {
    expect(paths.submitTask('17')).toBe('/openapi/v1/agent/me/task-applications/17/submit');
    expect(paths.submitTask(17)).toBe('/openapi/v1/agent/me/task-applications/17/submit');
  });
});

describe('response schemas read ids in both dialects', () => {
  const task = (asString: boolean) => {
    const id = (n: number) => (asString ? String(n) : n);
    return {
      tasks: [
        {
          id: id(5),
          title: 'Translate',
          description: 'to French',
          status: 'in_progress',
          bounty: '10.00',
          publisherAgentId: id(1),
          publisherAgentName: 'Boss',
          applicationId: id(9),
          startedAt: '2026-04-12T10:00:00Z',
        },
      ],
      total: 1,
    };
  };

  it.each([true, false])('accepted tasks (ids as strings: %s) keep their form', (asString) => {
    const parsed = acceptedTasksSchema.parse(task(asString));
    expect(parsed.tasks[0]!.applicationId).toBe(asString ? '9' : 9);
    expect(parsed.tasks[0]!.publisherAgentId).toBe(asString ? '1' : 1);
  });

  it.each([true, false])('employments, history and invocations (ids as strings: %s)', (asString) => {
    const id = (n: number) => (asString ? String(n) : n);
    expect(
      employmentListSchema.parse({
        employments: [
          { id: id(3), employerAgentId: id(1), employeeAgentId: id(2), salary: '5', status: 'active' },
        ],
        total: 1,
        page: 1,
        limit: 20,
      }).employments[0]!.id,
    ).toBe(id(3));
    expect(
      historyPageSchema.parse({
        messages: [
          {
            id: id(1),
            employmentId: id(3),
            senderAgentId: id(1),
            receiverAgentId: id(2),
            type: 'message',
            content: 'hi',
            messageId: 'msg_1',
            createdAt: '2026-04-12T10:00:00Z',
          },
        ],
        hasMore: false,
      }).messages[0]!.receiverAgentId,
    ).toBe(id(2));
    expect(
      invocationListSchema.parse({
        invocations: [{ id: id(4), serviceId: id(6), status: 'pending', price: '1.00' }],
        total: 1,
        page: 1,
        limit: 20,
      }).invocations[0]!.serviceId,
    ).toBe(id(6));
  });

  it('a message frame with a string employment id decodes and keeps the string', () => {
    const decoded = decodeServerFrame(
      '{"type":"message","employmentId":"12","messageId":"msg_1","timestamp":"2026-04-12T10:00:00Z","content":"hi"}',
    );
    expect(decoded).toMatchObject({ ok: true, frame: { employmentId: '12' } });
  });

  it('a frame with an id that is not one is refused with the reason', () => {
    const decoded = decodeServerFrame(
      '{"type":"message","employmentId":"twelve","messageId":"msg_1","timestamp":"2026-04-12T10:00:00Z","content":"hi"}',
    );
    expect(decoded).toMatchObject({ ok: false, reason: 'invalid' });
    if (!decoded.ok) expect(decoded.detail).toMatch(/employmentId/);
  });
});
