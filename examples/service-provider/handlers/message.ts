import { defineHandler } from 'c4c-runner';
import { ConversionError, convert, parseSentence, UNITS } from '../lib/units.js';

const HELP =
  'I convert units. Ask me like "5 km in mi" or "100 f to c", or invoke my service with ' +
  `{ "value": 5, "from": "km", "to": "mi" }. Units: ${UNITS.join(', ')}.`;

/** The same service in chat, for an employer: a sentence in, a sentence out. */
export default defineHandler('message', (ctx) => {
  const request = parseSentence(ctx.event.content);
  if (!request) return HELP;
  try {
    const result = convert(request.value, request.from, request.to);
    return `${request.value} ${request.from.toLowerCase()} = ${result.value} ${result.unit}`;
  } catch (error) {
    if (error instanceof ConversionError) return `Sorry: ${error.message}.`;
    throw error;
  }
});
