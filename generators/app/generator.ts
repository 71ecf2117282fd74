import KelkooGenerator from '../lib/base.js';

/** `yo kelkoo`: asks which type, then scaffolds it */
export default class extends KelkooGenerator {
  constructor(args: string[], options: Record<string, unknown>) {
    super(args, options, undefined);
  }

  // Yeoman runs the lifecycle methods of the generator's own class only
  override async prompting(): Promise<void> {
    await super.prompting();
  }

  override writing(): void {
    super.writing();
  }

  override end(): void {
    super.end();
  }
}
