// @ts-check
/* global process -- node globals */
/**
 * Copies a template into a new project folder, all or nothing: files are written into a hidden
 * staging folder beside the target, which becomes the target only once everything is written, so
 * an error or Ctrl-C in the middle leaves no half-written project behind.
 */
import { constants } from 'node:fs';
import {
  chmod,
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { CreateError } from './errors.js';

/** Files that npm would strip from a published package are stored under another name. */
const RENAMES = new Map([
  ['_gitignore', '.gitignore'],
  ['_npmrc', '.npmrc'],
]);
/** Never copied, even if a template folder has them lying around after a local install. */
const SKIP = new Set(['node_modules', 'dist', '.DS_Store', 'package-lock.json', '.c4c']);
/** A folder holding only these counts as empty (a fresh `git init` is a fine place to create in). */
const IGNORABLE = new Set(['.git', '.DS_Store']);

/**
 * @typedef {object} ScaffoldOptions
 * @property {string} templateDir   the template folder to copy
 * @property {string} targetDir     where the project goes (made absolute against cwd)
 * @property {string} packageName   the `name` written into the project's package.json
 * @property {string} [runner]      npm spec for the `c4c-runner` dependency (the template's when not given)
 * @property {boolean} [force]      write into a non-empty folder, replacing files of the same name
 * @property {AbortSignal} [signal] abort (Ctrl-C): stop copying, remove what was written
 * @property {string} [readmeSteps]  a Markdown section put under the README's title (the next steps)
 */

/**
 * @param {ScaffoldOptions} options
 * @returns {Promise<{ dir: string, files: string[] }>} the project folder and the files written (relative)
 */
export async function scaffold(options) {
  const target = resolve(options.targetDir);
  const existing = await folderState(target);
  if (existing === 'file') {
    throw new CreateError('E_NOT_EMPTY', `${target} is a file, not a folder; choose another project name`);
  }
  if (existing === 'non-empty' && !options.force) {
    throw new CreateError(
      'E_NOT_EMPTY',
      `${target} is not empty; choose another folder, or pass --force to write into it (files and folders of the same name are replaced)`,
    );
  }

  const parent = dirname(target);
  const createdParent = await mkdir(parent, { recursive: true });
  const staging = await mkdtemp(join(parent, `.${basename(target)}-creating-`));
  /** @type {string[]} */
  const files = [];
  try {
    // mkdtemp makes the folder 0700; the project gets the user's umask, as any folder mkdir makes.
    await chmod(staging, await umaskedFolderMode(staging));
    await copyTree(options.templateDir, staging, '', files, options.signal);
    const templateName = await patchManifest(
      join(staging, 'package.json'),
      options.packageName,
      options.runner,
    );
    await retitleReadme(join(staging, 'README.md'), templateName, options.packageName, options.readmeSteps);
    checkAborted(options.signal);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (createdParent) await rm(createdParent, { recursive: true, force: true });
    if (error instanceof CreateError) throw error;
    throw new CreateError('E_WRITE', `could not write the project into ${target}: ${describe(error)}`, {
      cause: error,
    });
  }

  // From here on the work is a few renames: finish it even if Ctrl-C arrives now.
  if (existing === 'missing') {
    await rename(staging, target);
  } else {
    for (const entry of await readdir(staging)) {
      await rm(join(target, entry), { recursive: true, force: true });
      await rename(join(staging, entry), join(target, entry));
    }
    await rmdir(staging);
  }
  return { dir: target, files: files.sort() };
}

/**
 * @param {string} dir
 * @returns {Promise<'missing' | 'file' | 'empty' | 'non-empty'>}
 */
async function folderState(dir) {
  let info;
  try {
    info = await stat(dir);
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code === 'ENOENT') return 'missing';
    throw error;
  }
  if (!info.isDirectory()) return 'file';
  const entries = (await readdir(dir)).filter((entry) => !IGNORABLE.has(entry));
  return entries.length === 0 ? 'empty' : 'non-empty';
}

/**
 * @param {string} from
 * @param {string} to
 * @param {string} relative
 * @param {string[]} files
 * @param {AbortSignal | undefined} signal
 */
async function copyTree(from, to, relative, files, signal) {
  for (const entry of await readdir(from, { withFileTypes: true })) {
    checkAborted(signal);
    if (SKIP.has(entry.name)) continue;
    const name = RENAMES.get(entry.name) ?? entry.name;
    const source = join(from, entry.name);
    const destination = join(to, name);
    const rel = relative ? `${relative}/${name}` : name;
    if (entry.isDirectory()) {
      await mkdir(destination);
      await copyTree(source, destination, rel, files, signal);
    } else if (entry.isFile()) {
      await copyFile(source, destination, constants.COPYFILE_EXCL);
      files.push(rel);
    }
  }
}

/**
 * The mode `mkdir` gives a new folder here (0777 less the umask), read from a probe folder:
 * `process.umask()` without an argument is deprecated.
 * @param {string} parent
 * @returns {Promise<number>}
 */
async function umaskedFolderMode(parent) {
  const probe = join(parent, '.mode-probe');
  await mkdir(probe);
  try {
    return (await stat(probe)).mode & 0o777;
  } finally {
    await rmdir(probe);
  }
}

/**
 * A template's README is titled with the template's package name; the project's is titled with its
 * own, and gets the next steps (for the package manager in use) under its first paragraph.
 * @param {string} file
 * @param {string | undefined} from
 * @param {string} to
 * @param {string | undefined} steps
 */
async function retitleReadme(file, from, to, steps) {
  let text;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return; // a template without a README is fine
  }
  if (from && text.startsWith(`# ${from}\n`)) text = `# ${to}\n${text.slice(from.length + 3)}`;
  if (steps) {
    // After the title and the paragraph that says what the project is.
    const firstSection = text.indexOf('\n## ');
    text =
      firstSection < 0
        ? `${text.trimEnd()}\n\n${steps}`
        : `${text.slice(0, firstSection + 1)}${steps}\n${text.slice(firstSection + 1)}`;
  }
  await writeFile(file, text);
}

/**
 * Sets the project's name and, when asked, the `c4c-runner` dependency. Returns the template's own name.
 * @param {string} file
 * @param {string} name
 * @param {string | undefined} runner
 * @returns {Promise<string | undefined>}
 */
async function patchManifest(file, name, runner) {
  let pkg;
  try {
    pkg = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new CreateError('E_TEMPLATE', `the template's package.json could not be read: ${describe(error)}`, {
      cause: error,
    });
  }
  const previous = typeof pkg.name === 'string' ? pkg.name : undefined;
  pkg.name = name;
  if (runner !== undefined) {
    pkg.dependencies = { ...pkg.dependencies, 'c4c-runner': runner };
  }
  await writeFile(file, `${JSON.stringify(pkg, null, 2)}\n`);
  return previous;
}

/**
 * An npm spec for `c4c-runner` as a dependency of the new project. A local path (a packed
 * tarball or a checkout) becomes an absolute `file:` spec, since the project lives elsewhere.
 * @param {string} spec
 * @param {string} [cwd]
 * @returns {string}
 */
export function runnerSpec(spec, cwd = process.cwd()) {
  const trimmed = spec.trim();
  if (!trimmed)
    throw new CreateError('E_ARGS', '--runner needs a value: a version (0.1.0), a tarball path or a URL');
  if (trimmed.startsWith('file:')) {
    const path = trimmed.slice('file:'.length);
    return isAbsolute(path) ? trimmed : `file:${resolve(cwd, path)}`;
  }
  const looksLocal = /^(\.{1,2}[\\/]|\/|~[\\/])/.test(trimmed) || /\.(tgz|tar\.gz|tar)$/.test(trimmed);
  if (looksLocal && !/^[a-z]+:\/\//i.test(trimmed)) {
    const home = process.env.HOME ?? '';
    const expanded = trimmed.startsWith('~') ? join(home, trimmed.slice(1)) : trimmed;
    return `file:${resolve(cwd, expanded)}`;
  }
  return trimmed;
}

/**
 * A valid npm package name made from a folder name: lower case, no spaces, no leading dot.
 * @param {string} folderName
 * @returns {string}
 */
export function toPackageName(folderName) {
  const name = folderName
    .trim()
    .toLowerCase()
    .replace(/\s+/g, '-')
    .replace(/^[._]+/, '')
    .replace(/[^a-z0-9~._-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  return name.slice(0, 214) || 'my-agent';
}

/**
 * Why a project folder name cannot be used, or undefined when it can.
 * @param {string | undefined} value
 * @returns {string | undefined}
 */
export function checkProjectDir(value) {
  const v = (value ?? '').trim();
  if (!v) return 'Enter a folder name, for example my-agent';
  if (/[<>:"|?*]/.test(v) || [...v].some((ch) => ch.charCodeAt(0) < 32))
    return 'Use letters, digits, dashes and slashes only';
  return undefined;
}

/** @param {AbortSignal | undefined} signal */
function checkAborted(signal) {
  if (signal?.aborted) throw new CreateError('E_CANCELLED', 'cancelled; nothing was written');
}

/** @param {unknown} error */
function describe(error) {
  return error instanceof Error ? error.message : String(error);
}
