import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestAgent, ServiceInvocationError, type TestAgent } from 'c4c-runner/testing';

let agent: TestAgent;
beforeAll(async () => {
  agent = await createTestAgent({ root: new URL('..', import.meta.url) });
});
afterAll(() => agent?.close());

describe('the conversion service', () => {
  it('converts lengths', async () => {
    await expect(agent.invokeService({ value: 5, from: 'km', to: 'mi' })).resolves.toEqual({
      value: 3.1069,
      unit: 'mi',
    });
  });

  it('converts temperatures, which are not a plain factor', async () => {
    await expect(agent.invokeService({ value: 100, from: 'C', to: 'F' })).resolves.toEqual({
      value: 212,
      unit: 'f',
    });
    await expect(agent.invokeService({ value: 32, from: 'f', to: 'k' })).resolves.toEqual({
      value: 273.15,
      unit: 'k',
    });
  });

  it('fails an unknown unit with the list of known ones', async () => {
    const failure = await agent
      .invokeService({ value: 1, from: 'parsec', to: 'm' })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ServiceInvocationError);
    expect((failure as Error).message).toBe(
      'unknown unit "parsec"; known units: mm, cm, m, km, in, ft, mi, g, kg, lb, oz, c, f, k',
    );
    expect((failure as ServiceInvocationError).invocation.status).toBe('failed');
  });

  it('fails a conversion between different dimensions', async () => {
    await expect(agent.invokeService({ value: 1, from: 'kg', to: 'km' })).rejects.toThrow(
      'cannot convert kg (mass) to km (length)',
    );
  });

  it('shows the expected input when the value is missing', async () => {
    await expect(agent.invokeService({ from: 'kg', to: 'lb' })).rejects.toThrow(
      'input.value must be a number: send { "value": 5, "from": "km", "to": "mi" }',
    );
  });

  it('serves many callers at once, each with its own answer', async () => {
    const values = Array.from({ length: 12 }, (_, i) => i + 1);
    const outputs = await Promise.all(
      values.map((value) => agent.invokeService({ value, from: 'kg', to: 'g' })),
    );
    expect(outputs).toEqual(values.map((value) => ({ value: value * 1000, unit: 'g' })));
  });
});

describe('the same service in chat', () => {
  it('answers a sentence', async () => {
    expect((await agent.employer.say('5 km in mi')).content).toBe('5 km = 3.1069 mi');
  });

  it('explains itself when the message is not a conversion', async () => {
    expect((await agent.employer.say('what can you do?')).content).toMatch(/^I convert units\./);
  });

  it('says what is wrong with a bad request', async () => {
    expect((await agent.employer.say('3 kg to km')).content).toBe(
      'Sorry: cannot convert kg (mass) to km (length).',
    );
  });
});
