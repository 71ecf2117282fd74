import KelkooGenerator from '../lib/base.js';

/** `yo kelkoo:processing`: scaffolds a processing component */
export default class extends KelkooGenerator {
  constructor(args: string[], options: Record<string, unknown>) {
    super(args, options, 'processing');
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
