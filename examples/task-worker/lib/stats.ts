/** What this worker has done since it started: in memory, reported in chat. */
export const stats = { delivered: 0, offersAccepted: 0, offersRejected: 0 };
