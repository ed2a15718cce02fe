/**
 * Deterministic reply ids. Handling is at-least-once: a process killed after a reply went out but
 * before its acknowledgement handles the message again after the restart. The second run's replies
 * get the same `messageId`s as the first run's (derived from the incoming event's id and the reply's
 * position), and the platform stores and delivers a repeated `messageId` in an employment once — so
 * the other party sees each reply once, even when the handler ran twice.
 *
 * The digest needs to be stable and to spread distinct inputs, not to resist an attacker: a
 * collision could only make the platform drop a reply as a repeat inside the one conversation whose
 * sender chose the colliding ids. So it is a 128-bit multiply–xor hash computed here, not SHA-256:
 * the one-shot `crypto.hash` and the slicing of its hex output cost ~0.6 µs and ~700 bytes of
 * garbage per reply, a twentieth of the runner's CPU per reply (docs/benchmarks.md, section 0d).
 */

/** The id is written into this (ASCII) and read out as one string: no piece strings to collect. */
const scratch = Buffer.from('msg_xxxxxxxx-xxxx-8xxx-xxxx-xxxxxxxxxxxx', 'latin1');
const DIGITS = Buffer.from('0123456789abcdef', 'latin1');

/**
 * The id of the `index`-th message sent while handling the event `sourceId`: `msg_` + a UUID-shaped
 * (version 8, RFC 9562) digest, so it looks like any other client's id.
 */
export function replyMessageId(sourceId: string, index: number): string {
  // Four 32-bit lanes over the UTF-16 units, each with its own seed, multiplier and mixing, so that
  // a weakness of one lane's arithmetic is not shared by the others; the index seeds all four.
  let a = 0x811c9dc5 ^ index;
  let b = 0x9e3779b9 ^ Math.imul(index, 0x85ebca6b);
  let c = 0xc2b2ae35 + index;
  let d = 0x27d4eb2f ^ sourceId.length;
  for (let i = 0; i < sourceId.length; i++) {
    const unit = sourceId.charCodeAt(i);
    a = Math.imul(a ^ unit, 0x01000193);
    b = Math.imul(b ^ unit, 0x5bd1e995);
    b ^= b >>> 15;
    c = Math.imul(((c << 7) | (c >>> 25)) ^ unit, 0x9e3779b1);
    d = Math.imul(d + unit, 0x85ebca77) ^ (d >>> 13);
  }
  // Each output word depends on every lane: the finalizer of MurmurHash3 over a chain of the lanes.
  a = mix(a ^ d);
  b = mix(b ^ a);
  c = mix(c ^ b);
  d = mix(d ^ c);
  a = mix(a ^ d);
  // msg_aaaaaaaa-bbbb-8bbb-Vccc-ccccdddddddd: version 8, variant 10 (V is 8, 9, a or b).
  hex(a, 8, 4);
  hex(b >>> 16, 4, 13);
  hex(b, 3, 19);
  hex(((c >>> 16) & 0x3fff) | 0x8000, 4, 23);
  hex(c, 4, 28);
  hex(d, 8, 32);
  return scratch.toString('latin1', 0, 40);
}

/** An avalanche of one 32-bit word (MurmurHash3's `fmix32`). */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Writes the low `digits` hex digits of `word` into the scratch id at `at`. */
function hex(word: number, digits: number, at: number): void {
  for (let i = digits - 1; i >= 0; i--) {
    scratch[at + i] = DIGITS[word & 0xf]!;
    word >>>= 4;
  }
}
