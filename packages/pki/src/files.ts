import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PKI_CODES, PkiError } from './errors.ts';

/**
 * Where a PKI store keeps its files: a private directory by default, or any other place that can
 * replace one named text atomically (the delivery server keeps them in its database, private keys
 * encrypted, so that every node presents the same identity). The store's crash safety rests on
 * `write` alone: a new state is written under fresh names and the manifest, written last, switches.
 */
export interface PkiFiles {
  /** For messages: the directory, or a description such as "the database". */
  readonly location: string;
  /**
   * Whether the place exists (false: there is no store yet). Throws STORE_PERMISSIONS when it is
   * open to others or cannot be read.
   */
  check(): Promise<boolean>;
  /** The text of one file, or undefined when there is none. A secret one is refused if others may read it. */
  read(name: string, opts?: { secret?: boolean }): Promise<string | undefined>;
  /**
   * Creates or replaces one file as a whole: a reader sees the old text or the new, never a part.
   * `exclusive`: only creates it; when it exists already, throws STORE_EXISTS and changes nothing
   * (two processes creating a store at once: one wins, the other adopts its files).
   */
  write(name: string, text: string, opts: { secret: boolean; exclusive?: boolean }): Promise<void>;
  list(): Promise<string[]>;
  /** Removes one file; none there is no error. */
  remove(name: string): Promise<void>;
  /** Creates the place (a directory 0700) before the first write. */
  prepare(): Promise<void>;
}

const modeText = (mode: number) => (mode & 0o777).toString(8);

/** What an exclusive write of an existing file throws. */
export function existsError(where: string): PkiError {
  return new PkiError(PKI_CODES.STORE_EXISTS, `${where} exists already: another process created the store first`);
}

/** A directory (0700) of files: key files 0600, refused when anyone else can read them. */
export function directoryFiles(dir: string): PkiFiles {
  const path = (name: string) => join(dir, name);
  return {
    location: dir,
    async check() {
      let st: Awaited<ReturnType<typeof stat>>;
      try {
        st = await stat(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw new PkiError(PKI_CODES.STORE_PERMISSIONS, `cannot read ${dir}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      if (st.mode & 0o077) {
        throw new PkiError(
          PKI_CODES.STORE_PERMISSIONS,
          `${dir} is open to others (mode ${modeText(st.mode)}): run chmod 700 on it`,
        );
      }
      return true;
    },
    async read(name, opts = {}) {
      try {
        if (opts.secret) {
          const st = await stat(path(name));
          if (st.mode & 0o077) {
            throw new PkiError(
              PKI_CODES.STORE_PERMISSIONS,
              `${path(name)} is readable by others (mode ${modeText(st.mode)}): run chmod 600 on it`,
            );
          }
        }
        return await readFile(path(name), 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async write(name, text, opts) {
      const mode = opts.secret ? 0o600 : 0o644;
      const tmp = `${path(name)}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(tmp, text, { mode, flag: 'wx' });
      await chmod(tmp, mode); // the umask may have narrowed it or not; be exact
      if (!opts.exclusive) return rename(tmp, path(name));
      // link() refuses an existing name, where rename() would replace it.
      try {
        await link(tmp, path(name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw existsError(path(name));
        throw err;
      } finally {
        await rm(tmp, { force: true });
      }
    },
    list: () => readdir(dir),
    remove: (name) => rm(path(name), { force: true }),
    async prepare() {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
    },
  };
}
