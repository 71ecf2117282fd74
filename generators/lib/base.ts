/**
 * The one Yeoman generator class behind every archetype: the lifecycle only. Questions and their
 * validators are data (answers.ts); files come from render.ts.
 *
 * Where an answer comes from, first found wins: the command-line option of the same name, the
 * answers kept in .yo-rc.json by an earlier run, then the prompt; with --defaults, or with no
 * terminal to ask on, the question's default instead of the prompt (like Maven's batch mode).
 * In batch mode nothing prompts: a file that differs from what would be written is refused
 * (AnswerError, naming them all) unless --force overwrites it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import Generator from 'yeoman-generator';
import type { ComponentType } from '../../packager/descriptor/index.js';
import { AnswerError, NAME_QUESTION, questionsFor, TYPE_QUESTION, type Answers, type Question } from './answers.js';
import { renderComponent } from './render.js';

export default class KelkooGenerator extends Generator {
  /** The component type, or undefined for the `kelkoo` menu, which asks it. */
  protected readonly fixedType: ComponentType | undefined;
  protected answers: Partial<Answers> = {};

  constructor(args: string[], options: Record<string, unknown>, type?: ComponentType) {
    super(args, options as never);
    this.fixedType = type;
    this.argument('name', { type: String, required: false, description: 'Component name: ^[a-z][a-z0-9-]*$; the component is written to ./<name>/' });
    this.option('defaults', { type: Boolean, description: 'Accept the default of every question not answered by an option' });
    this.option('interactive', { type: Boolean, hide: true, description: 'Ask even with no terminal (tests drive the prompts)' });
    this.option('force', { type: Boolean, description: 'Overwrite files that differ from what the generator writes (without it, --defaults refuses to)' });
    this.option('install', { type: Boolean, description: 'Run npm install once the files are written (default: no, run it yourself)' });
    const questions = [...(type ? [] : [TYPE_QUESTION]), ...(type ? questionsFor(type) : allQuestions())];
    for (const q of questions) this.option(q.option, { type: String, description: q.message });
    // npm install is the developer's step (docs/architecture.md, the flow of data), unless asked for
    if (!this.opts.install) (this.env as unknown as { options: Record<string, unknown> }).options.skipInstall = true;
  }

  private get opts(): Record<string, unknown> {
    return this.options;
  }

  /** Running in batch mode: no prompt at all. */
  protected get batch(): boolean {
    return Boolean(this.opts.defaults) || (!process.stdin.isTTY && !this.opts.interactive);
  }

  async prompting(): Promise<void> {
    const stored = this.storedAnswers();
    const name = (this.opts.name as string | undefined) ?? (stored.name as string | undefined);
    if (this.fixedType) this.answers.type = this.fixedType;
    else await this.ask(TYPE_QUESTION, stored);
    if (this.fixedType && stored.type !== undefined && stored.type !== this.fixedType && name === stored.name) {
      throw new AnswerError(`.yo-rc.json: ${String(stored.name)} is a ${JSON.stringify(stored.type)}, not a ${this.fixedType}`);
    }
    if (name !== undefined) {
      // the name is an argument, not an option: its error names no --name
      const problem = NAME_QUESTION.validate(name, this.answers);
      if (problem !== undefined) throw new AnswerError(problem);
      this.answers.name = name;
    }
    else await this.ask(NAME_QUESTION, stored);
    const target = this.targetDir(this.answers.name!);
    const again = this.readYoRc(target) ?? {}; // the component's own .yo-rc.json, when re-run from its parent
    for (const q of questionsFor(this.answers.type!)) await this.ask(q, { ...stored, ...again });
    // only once every answer is valid: a refused answer leaves no directory behind
    if (target !== this.destinationRoot()) this.destinationRoot(target);
    this.config.set({ ...this.answers });
  }

  writing(): void {
    const files = renderComponent(this.answers as Answers);
    const force = Boolean(this.opts.force);
    const changed = [...files.keys()].filter((path) => {
      const target = this.destinationPath(path);
      return this.fs.exists(target) && this.fs.read(target) !== files.get(path);
    });
    // Yeoman would ask about each changed file; with no one to ask, refuse before writing anything
    if (this.batch && !force && changed.length > 0) {
      throw new AnswerError(`${this.destinationRoot()}: would overwrite ${changed.length} changed file(s): ${changed.join(', ')}; use --force to overwrite them`);
    }
    for (const [path, content] of files) this.fs.write(this.destinationPath(path), content);
    // what Yeoman's conflicter does for .yo-rc.json: overwrite without asking
    if (force) for (const path of changed) markForced(this.env, this.destinationPath(path));
  }

  end(): void {
    const a = this.answers as Answers;
    this.log(`\n${a.type} ${a.name} written to ${this.destinationRoot()}\nNext: cd ${a.name} && npm install && npm test && kpkg build`);
  }

  /**
   * `./<name>/`, unless the current directory is already that component (a re-run inside it).
   */
  private targetDir(name: string): string {
    const here = this.destinationRoot();
    return basename(here) === name && this.readYoRc(here)?.name === name ? here : join(here, name);
  }

  private readYoRc(dir: string): Record<string, unknown> | undefined {
    const path = join(dir, '.yo-rc.json');
    if (!existsSync(path)) return undefined;
    try {
      return (JSON.parse(readFileSync(path, 'utf8')) as Record<string, Record<string, unknown>>)['generator-kelkoo'];
    } catch {
      return undefined;
    }
  }

  private storedAnswers(): Record<string, unknown> {
    return this.readYoRc(this.destinationRoot()) ?? {};
  }

  /** The option's value validated, or the error that names the option. */
  private checked(q: Question, raw: unknown): unknown {
    const value = typeof raw === 'string' ? q.parse(raw) : raw;
    const problem = q.validate(value, this.answers);
    if (problem !== undefined) throw new AnswerError(`--${q.option}: ${problem}`);
    return value;
  }

  private async ask(q: Question, stored: Record<string, unknown>): Promise<void> {
    const option = this.opts[q.option];
    let value: unknown;
    if (option !== undefined && option !== null && option !== '') value = this.checked(q, option);
    else if (stored[q.key] !== undefined && q.validate(stored[q.key], this.answers) === undefined) value = stored[q.key];
    else if (this.batch) value = this.checked(q, q.default(this.answers));
    else {
      const answer = await this.prompt<Record<string, unknown>>([
        {
          type: q.kind,
          name: q.option,
          message: q.message,
          default: q.default(this.answers),
          ...(q.choices ? { choices: [...q.choices] } : {}),
          validate: (input: unknown) => q.validate(typeof input === 'string' ? q.parse(input) : input, this.answers) ?? true,
        } as never,
      ]);
      const given = answer[q.option];
      value = typeof given === 'string' ? q.parse(given) : given;
    }
    (this.answers as Record<string, unknown>)[q.key] = value;
  }
}

/** Marks a pending file of the environment's shared mem-fs so that the conflicter overwrites it. */
function markForced(env: unknown, path: string): void {
  const store = (env as { sharedFs?: { get(path: string): { conflicter?: string } } }).sharedFs;
  const file = store?.get(path);
  if (file) file.conflicter = 'force';
}

function allQuestions(): Question[] {
  const seen = new Map<string, Question>();
  for (const t of ['webapp', 'web-service', 'processing', 'db-schema', 'monitoring'] as const) for (const q of questionsFor(t)) if (!seen.has(q.option)) seen.set(q.option, q);
  return [...seen.values()];
}

/**
 * The generator of one component type (undefined: the `kelkoo` menu, which asks it). Yeoman runs the lifecycle methods declared on the
 * generator's own class only, so the class made here declares them again.
 */
export function componentGenerator(type: ComponentType | undefined): typeof KelkooGenerator {
  const generator = class extends KelkooGenerator {
    constructor(args: string[], options: Record<string, unknown>) {
      super(args, options, type);
    }

    override async prompting(): Promise<void> {
      await super.prompting();
    }

    override writing(): void {
      super.writing();
    }

    override end(): void {
      super.end();
    }
  };
  return generator;
}
