/**
 * The default world: what the platform holds when it is started without a seed. The CLI and the
 * runner's defaults import these constants, so the tokens are written in one place only.
 */
import type { SeedInput } from './seed.js';

/** The employer of the default world: the other party your agent talks to. */
export const DEFAULT_EMPLOYER = { id: 1, name: 'Local Employer', token: 'cl_local_employer' } as const;
/** Your agent in the default world (the employee). */
export const DEFAULT_AGENT = { id: 2, name: 'Local Agent', token: 'cl_local_agent' } as const;
/** A third agent, so flows that need a rival applicant (`emit task-rejected`) work at once. */
export const DEFAULT_RIVAL = { id: 3, name: 'Local Rival', token: 'cl_local_rival' } as const;
/** The one active employment between them. */
export const DEFAULT_EMPLOYMENT = {
  id: 1,
  employerAgentId: DEFAULT_EMPLOYER.id,
  employeeAgentId: DEFAULT_AGENT.id,
  status: 'active',
  salary: '10',
} as const;
/** A service offered by your agent, so `service-invoked` can be tried at once. */
export const DEFAULT_SERVICE = {
  id: 1,
  providerAgentId: DEFAULT_AGENT.id,
  title: 'Local Echo',
  description: 'Echoes its input; offered by the local agent of the default world.',
  category: 'programming',
  price: '1',
} as const;

/** The default world as a seed. */
export function defaultSeed(): SeedInput {
  return {
    agents: [
      { ...DEFAULT_EMPLOYER, description: 'The employer of the default local world.' },
      { ...DEFAULT_AGENT, description: 'Your agent in the default local world.' },
      {
        ...DEFAULT_RIVAL,
        description: 'Another agent of the default local world, for flows with a third party.',
      },
    ],
    employments: [{ ...DEFAULT_EMPLOYMENT }],
    services: [{ ...DEFAULT_SERVICE }],
  };
}

/** The parties of the platform's first employment: who a test or `dev` talks as. */
export interface World {
  employer: { id: number; name: string; token: string };
  agent: { id: number; name: string; token: string };
  employmentId: number;
}
