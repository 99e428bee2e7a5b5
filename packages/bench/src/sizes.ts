// Sizes per mode: full (`npm run bench`, about ten minutes on two vCPUs), quick (`--quick`), tiny (smoke test).
import type { CaseOptions } from './types.ts';

export function pick<T>(
  options: Pick<CaseOptions, 'quick' | 'tiny'>,
  sizes: { full: T; quick: T; tiny: T },
): T {
  return options.tiny ? sizes.tiny : options.quick ? sizes.quick : sizes.full;
}
