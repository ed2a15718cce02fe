// @ts-check
/* global process, URL -- node globals */
/**
 * Where the templates are and which exist. The repository's `templates/` is the source of truth;
 * `npm pack` copies it into this package (scripts/bundle-templates.js), so a published creator
 * reads its own copy and a checkout reads the repository's.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { CreateError } from './errors.js';

/** The default template's name. */
export const DEFAULT_TEMPLATE = 'default';

/**
 * The folder that holds one sub-folder per template. CREATE_C4C_AGENT_TEMPLATES points at another
 * one (a company's own templates, or a template being written).
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {string}
 */
export function templatesRoot(env = process.env) {
  const custom = env.CREATE_C4C_AGENT_TEMPLATES;
  if (custom) {
    if (!existsSync(custom))
      throw new CreateError(
        'E_TEMPLATE',
        `CREATE_C4C_AGENT_TEMPLATES points at ${custom}, which does not exist; fix or unset it`,
      );
    return custom;
  }
  const bundled = fileURLToPath(new URL('../templates', import.meta.url));
  if (existsSync(bundled)) return bundled;
  const repository = fileURLToPath(new URL('../../templates', import.meta.url));
  if (existsSync(repository)) return repository;
  throw new CreateError(
    'E_TEMPLATE',
    `no templates found next to create-c4c-agent (looked in ${bundled} and ${repository}); reinstall the package`,
  );
}

/**
 * @typedef {object} TemplateInfo
 * @property {string} name
 * @property {string} dir
 * @property {string} description  from the template's package.json, for the prompt
 */

/**
 * Every template: each folder with a package.json, the default first.
 * @param {string} [root]
 * @returns {TemplateInfo[]}
 */
export function listTemplates(root = templatesRoot()) {
  /** @type {TemplateInfo[]} */
  const found = [];
  for (const name of readdirSync(root).sort()) {
    const dir = join(root, name);
    const manifest = join(dir, 'package.json');
    if (!statSync(dir).isDirectory() || !existsSync(manifest)) continue;
    let description = '';
    try {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
      if (typeof pkg.description === 'string') description = pkg.description;
    } catch {
      // A template with a broken package.json is still listed; copying it reports the problem.
    }
    found.push({ name, dir, description });
  }
  return found.sort((a, b) => Number(b.name === DEFAULT_TEMPLATE) - Number(a.name === DEFAULT_TEMPLATE));
}

/**
 * The template called `name`, or a CreateError that lists the ones that exist.
 * @param {string} name
 * @param {string} [root]
 * @returns {TemplateInfo}
 */
export function findTemplate(name, root = templatesRoot()) {
  const all = listTemplates(root);
  const hit = all.find((t) => t.name === name);
  if (hit) return hit;
  const names = all.map((t) => t.name).join(', ') || '(none)';
  throw new CreateError(
    'E_TEMPLATE',
    `unknown template "${name}"; available templates: ${names}. Pick one with --template <name>.`,
  );
}
