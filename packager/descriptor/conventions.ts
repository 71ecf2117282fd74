import type { ComponentType, ConfigKey } from './types.js';

/**
 * What a component's type implies, as a Maven packaging does: whether it runs as a service,
 * whether it may have cron entries, and the configuration keys the runtime contract promises for
 * it (docs/architecture.md, "Component types and the runtime contract"). A descriptor may restate
 * a conventional key (to change its default or describe it) but not change its type or make a
 * secret key plain.
 */
export interface TypeConvention {
  /** Runs as a systemd service. */
  service: boolean;
  /** May have `cron` entries. */
  cron: boolean;
  /** Keys added when the descriptor does not give them, in this order, before the descriptor's own. */
  configKeys: Record<string, ConfigKey>;
}

/** The conventions of `type` for the component called `name`. */
export function conventionFor(type: ComponentType, name: string): TypeConvention {
  const dbName = name.replace(/-/g, '_');
  switch (type) {
    case 'webapp':
    case 'web-service':
      return {
        service: true,
        cron: false,
        configKeys: { listen_port: { type: 'Integer', default: 8080, description: 'TCP port the HTTP server listens on' } },
      };
    case 'processing':
      return { service: false, cron: true, configKeys: {} };
    case 'db-schema':
      return {
        service: false,
        cron: false,
        configKeys: {
          db_host: { type: 'String', default: 'localhost', description: 'PostgreSQL server host name' },
          db_port: { type: 'Integer', default: 5432, description: 'PostgreSQL server port' },
          db_name: { type: 'String', default: dbName, description: 'Database the migrations apply to' },
          db_user: { type: 'String', default: dbName, description: 'Database user the migrations run as' },
          db_password: { type: 'String', secret: true, description: 'Password of the database user' },
        },
      };
    case 'monitoring':
      return { service: false, cron: false, configKeys: {} };
  }
}
