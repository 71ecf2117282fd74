import KelkooGenerator from '../lib/base.js';

/** `yo kelkoo:web-service`: scaffolds a web-service component */
export default class extends KelkooGenerator {
  constructor(args: string[], options: Record<string, unknown>) {
    super(args, options, 'web-service');
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
