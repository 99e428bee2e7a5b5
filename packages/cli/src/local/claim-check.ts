// The local stack's claim-check store for the CLI's local backfills: the folder the stack's consumers read
// (`<stateDir>/objects`, as in packages/local/src/stack.ts). Loaded only for a local target.
import type { ClaimStore } from '@payhooks/core/envelope';
import { createFolderStore } from '@payhooks/local/folder-store';

export function localClaimStore(dir: string): ClaimStore {
  return createFolderStore(dir);
}
