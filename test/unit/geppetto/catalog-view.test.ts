// One shaping of a component's versions for the API and the UI: rpm's order, keys apart from the
// module's own parameters, a secret key's default never shown.
import { describe, expect, it } from 'vitest';
import { componentVersionsView, SECRET_MASK } from '../../../geppetto/service/index.js';
import { SHOP, version } from './helpers.js';

describe('componentVersionsView', () => {
  it('orders versions as rpm does, masks secret defaults, keeps builtins apart', () => {
    const v = (evr: string) => version('shop', evr, { token: { type: 'String', secret: true, default: 'hunter2-default' }, port: { type: 'Integer', default: 8080, description: 'HTTP port' }, url: { type: 'String' } });
    const view = componentVersionsView({ '1.10.0-1': v('1.10.0-1'), '1.9.0-1': v('1.9.0-1'), '1:0.1-1': v('1:0.1-1'), '1.9.0-10': v('1.9.0-10'), '1.9.0-2': v('1.9.0-2') });
    expect(view.map((x) => x.evr)).toEqual(['1.9.0-1', '1.9.0-2', '1.9.0-10', '1.10.0-1', '1:0.1-1']);
    const first = view[0];
    expect(first?.keys).toEqual([
      { name: 'token', type: 'String', default: SECRET_MASK, secret: true },
      { name: 'port', type: 'Integer', default: 8080, secret: false, description: 'HTTP port' },
      { name: 'url', type: 'String', secret: false },
    ]);
    expect(first?.builtins).toEqual(['config_dir', 'manage_service', 'manage_user']);
    expect(JSON.stringify(view)).not.toContain('hunter2-default');
    expect(componentVersionsView({ [SHOP.evr]: SHOP })[0]).toMatchObject({ evr: '1.4.0-1', package: 'shop-deploy', class: 'shop', repository: 'kelkoo' });
  });
});
