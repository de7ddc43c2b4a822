/** Milliseconds since the epoch. Routes take the time from here, so tests can pass a clock. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
