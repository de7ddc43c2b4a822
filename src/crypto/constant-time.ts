/**
 * String equality whose time depends only on the length of `computed`, never on where the two
 * differ: Django's constant_time_compare. (Lengths may differ; that is not secret.)
 */
export function constantTimeEqual(computed: string, stored: string): boolean {
  let diff = computed.length ^ stored.length;
  // Past the end of `stored`, charCodeAt is NaN, which ^ treats as 0; diff is non-zero already.
  for (let i = 0; i < computed.length; i++) diff |= computed.charCodeAt(i) ^ stored.charCodeAt(i);
  return diff === 0;
}
