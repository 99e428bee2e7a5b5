// ObjectStore on a local folder (REPORTS_DIR, default .payhooks/reports): the same keys as the S3 bucket map to
// files; writes go to a temporary name and are renamed into place, so a reader sees an old or a new file, never a
// partial one. Links are file:// URLs, or http URLs when a base URL that serves the folder is given.
import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ObjectStore } from '@payhooks/core/ports';
import { ObjectKeyError } from './errors.ts';

/**
 * The local claim-check store's folder, given to consumer processes (the stack's `<stateDir>/objects`): the
 * stand-in for CLAIM_CHECK_BUCKET, which functions' wiring reads in a stage.
 */
export const CLAIM_CHECK_DIR_VARIABLE = 'PAYHOOKS_CLAIM_CHECK_DIR';

/** The folder store consumers read claim-checked bodies from, when the stack named one. */
export function claimStoreFromLocalEnv(env: Readonly<Record<string, string | undefined>>) {
  const dir = env[CLAIM_CHECK_DIR_VARIABLE];
  return dir ? createFolderStore(dir) : undefined;
}

function checkKey(key: string): string {
  if (
    key === '' ||
    key.startsWith('/') ||
    key.split('/').some((part) => part === '..' || part === '.' || part === '')
  ) {
    throw new ObjectKeyError(key);
  }
  return key;
}

async function walk(dir: string, base: string, out: string[]): Promise<void> {
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await walk(full, base, out);
    else if (entry.isFile() && !entry.name.includes('.tmp-'))
      out.push(path.relative(base, full).split(path.sep).join('/'));
  }
}

export function createFolderStore(
  root: string,
  options: { baseUrl?: string } = {},
): ObjectStore & { root: string; pathOf(key: string): string; delete(key: string): Promise<void> } {
  const dir = path.resolve(root);
  const pathOf = (key: string) => path.join(dir, ...checkKey(key).split('/'));
  let counter = 0;
  return {
    root: dir,
    pathOf,
    async put(key, body) {
      const file = pathOf(key);
      await mkdir(path.dirname(file), { recursive: true });
      counter += 1;
      const temp = `${file}.tmp-${process.pid}-${counter}`;
      await writeFile(temp, typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
      await rename(temp, file);
    },
    async putFile(key, source) {
      const file = pathOf(key);
      await mkdir(path.dirname(file), { recursive: true });
      counter += 1;
      const temp = `${file}.tmp-${process.pid}-${counter}`;
      await copyFile(source, temp);
      await rename(temp, file);
    },
    async get(key) {
      try {
        return new Uint8Array(await readFile(pathOf(key)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    /** Like S3's DeleteObject: removing a key that does not exist succeeds. */
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    async list(prefix) {
      const keys: string[] = [];
      await walk(dir, dir, keys);
      return keys.filter((key) => key.startsWith(prefix)).sort();
    },
    async link(key) {
      if (options.baseUrl)
        return `${options.baseUrl.replace(/\/$/, '')}/${checkKey(key).split('/').map(encodeURIComponent).join('/')}`;
      return pathToFileURL(pathOf(key)).href;
    },
  };
}
