/**
 * Geppetto's pages: Handlebars templates under templates/geppetto, compiled once, rendered inside
 * one layout. Handlebars escapes `{{...}}`; the only triple-stash is the layout's `{{{body}}}`,
 * which is HTML these templates produced. View models are prepared in TypeScript, so templates
 * hold no logic beyond `if` and `each`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Handlebars from 'handlebars';
import { templatesDir } from '../../../packager/util/paths.js';

export type TemplateData = Record<string, unknown>;

export interface Renderer {
  /** A whole page: the template inside the layout. */
  page(template: string, data: TemplateData): string;
  /** A template alone (an htmx fragment). */
  fragment(template: string, data: TemplateData): string;
}

export function createRenderer(dir = templatesDir('geppetto')): Renderer {
  const hbs = Handlebars.create();
  hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  hbs.registerHelper('join', (list: unknown, sep: unknown) => (Array.isArray(list) ? list.map(String).join(typeof sep === 'string' ? sep : ', ') : ''));
  const partials = join(dir, 'partials');
  for (const file of readdirSync(partials)) {
    if (file.endsWith('.hbs')) hbs.registerPartial(basename(file, '.hbs'), readFileSync(join(partials, file), 'utf8'));
  }
  const compiled = new Map<string, Handlebars.TemplateDelegate>();
  for (const file of readdirSync(dir)) {
    if (file.endsWith('.hbs')) compiled.set(basename(file, '.hbs'), hbs.compile(readFileSync(join(dir, file), 'utf8'), { strict: false, noEscape: false }));
  }
  const get = (name: string): Handlebars.TemplateDelegate => {
    const t = compiled.get(name);
    if (!t) throw new Error(`no template ${name}.hbs in ${dir}`);
    return t;
  };
  // templates read data the view models build; prototype access stays off (Handlebars' default)
  const options: Handlebars.RuntimeOptions = { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false };
  return {
    fragment: (template, data) => get(template)(data, options),
    page: (template, data) => get('layout')({ ...data, body: get(template)(data, options) }, options),
  };
}
