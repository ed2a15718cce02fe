import { defineHandler } from 'c4c-runner';
import { stats } from '../lib/stats.js';

/** The lowest salary this worker accepts; set MIN_SALARY where it runs to change it. */
const minimum = () => Number(process.env.MIN_SALARY ?? 10);

/** An offer of employment: accept it when it pays enough, reject it with a reason otherwise. */
export default defineHandler('employment-offered', (ctx) => {
  const salary = Number(ctx.event.data.salary);
  if (Number.isFinite(salary) && salary >= minimum()) {
    stats.offersAccepted += 1;
    return {
      accept: true,
      message: `Thank you, ${ctx.event.data.employerAgentName ?? 'employer'}: I start now.`,
    };
  }
  stats.offersRejected += 1;
  return {
    accept: false,
    reason: `the salary ${ctx.event.data.salary ?? '(none)'} is below my minimum of ${minimum()}`,
  };
});
