import { describe, expect, it } from 'vitest';
import { nameError, percentError, portError, questionsFor, scheduleError, summaryError, typeError } from '../../../generators/lib/answers.js';
import { outputName } from '../../../generators/lib/render.js';

describe('answer validators (pure functions)', () => {
  it('names follow ^[a-z][a-z0-9-]*$', () => {
    for (const ok of ['shop', 'a', 'catalog-api', 'x2']) expect(nameError(ok)).toBeUndefined();
    for (const bad of ['', 'Shop', '1shop', 'shop_api', 'shop api', '-shop', 'shop-', 'é']) expect(nameError(bad)).toMatch(/component name|required/);
    expect(nameError('Shop')).toContain('^[a-z][a-z0-9-]*$');
    expect(nameError(undefined)).toBe('a component name is required');
  });

  it('types are the five of docs/architecture.md', () => {
    expect(typeError('db-schema')).toBeUndefined();
    expect(typeError('war')).toMatch(/one of webapp, web-service, processing, db-schema, monitoring/);
  });

  it('ports, schedules, summaries and thresholds', () => {
    expect(portError(8080)).toBeUndefined();
    expect(portError(0)).toMatch(/1 to 65535/);
    expect(portError('80')).toMatch(/integer/);
    expect(scheduleError('*/15 * * * *')).toBeUndefined();
    expect(scheduleError('@daily')).toBeUndefined();
    expect(scheduleError('every day')).toMatch(/cron schedule "every day"/);
    expect(summaryError('two\nlines')).toMatch(/one line/);
    expect(percentError('warning threshold', 101)).toMatch(/0 to 100/);
  });

  it('every question has an option and a default its validator accepts', () => {
    for (const type of ['webapp', 'web-service', 'processing', 'db-schema', 'monitoring'] as const) {
      const answers: Record<string, unknown> = { type, name: 'shop' };
      for (const q of questionsFor(type)) {
        expect(q.option).toMatch(/^[a-z-]+$/);
        const value = q.default(answers);
        expect(q.validate(value, answers)).toBeUndefined();
        answers[q.key] = value;
      }
    }
  });

  it('the monitoring critical threshold may not be below the warning one', () => {
    const critical = questionsFor('monitoring').find((q) => q.key === 'critical')!;
    expect(critical.validate(80, { warning: 90 })).toMatch(/below the warning threshold 90/);
  });

  it('template names: .hbs dropped, a leading _ becomes a dot (npm pack drops .gitignore files)', () => {
    expect(outputName('_gitignore.hbs')).toBe('.gitignore');
    expect(outputName('src/app.ts.hbs')).toBe('src/app.ts');
    expect(outputName('test/app_test.ts.hbs')).toBe('test/app.test.ts');
  });
});
