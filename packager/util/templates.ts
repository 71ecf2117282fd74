import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { templatesDir } from './paths.js';

const hbs = Handlebars.create();
const cache = new Map<string, Handlebars.TemplateDelegate>();

/**
 * Renders `templates/<path>`. Strict: a field missing from the context is an error, not an empty
 * string. No HTML escaping: every value is escaped beforehand for the language it lands in.
 */
export function renderTemplate(path: string, context: object): string {
  let template = cache.get(path);
  if (!template) {
    template = hbs.compile(readFileSync(templatesDir(path), 'utf8'), { strict: true, noEscape: true });
    cache.set(path, template);
  }
  return template(context);
}
